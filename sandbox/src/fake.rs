//! A backend whose sandboxes live in memory, for testing what drives backends — the line,
//! lifetimes and reaping, the check engine, terminals — in milliseconds, without root, an image
//! or a daemon. It keeps the contract of [`Backend`] (a second start returns the running
//! sandbox, calls on a sandbox that is not running say `NotFound`, stopping keeps the owner's
//! files and wiping deletes them) and records every call, so a test can ask what was done and in
//! which order. What it cannot do is what only a kernel can tell: that lives in the root-only
//! suites (`sandbox/tests/`).
//!
//! Per test: the room it reports ([`FakeBackend::set_capacity`]), how long a start takes,
//! starts that fail, what a command "run" inside prints ([`FakeBackend::on_exec`]), and a
//! sandbox whose processes all die ([`FakeBackend::vanish`]). Shells are two in-memory pipes:
//! [`FakeBackend::terminal`] gives the test the shell's side.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::io::DuplexStream;
use tokio::sync::watch;

use crate::{
    Backend, Error, ExecEnd, ExecOutput, ExecRequest, Limits, Process, PtySize, Result, SandboxInfo, SandboxSpec, Shell, ShellControl,
    ShellRequest, Stats,
};

/// One call made to the backend, as it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    Start(String),
    Running,
    Exec { name: String, argv: Vec<String>, env: Vec<(String, String)>, timeout: Duration },
    OpenShell(String),
    Stop(String),
    Wipe(String),
    Stats(String),
    Processes(String),
    Kill { name: String, pid: i32, signal: i32 },
    Room,
}

/// What a command run in a fake sandbox prints: the test decides.
type ExecHandler = Box<dyn FnMut(&str, &ExecRequest) -> ExecOutput + Send>;

/// A shell the test drives from the other end (see [`FakeBackend::terminal`]).
pub struct FakeTerminal {
    /// What was typed into the shell.
    pub typed: DuplexStream,
    /// Writing here is what the shell prints (until it ends).
    pub screen: DuplexStream,
    end: Arc<ShellEnd>,
}

impl FakeTerminal {
    /// The shell exits with `code`.
    pub fn exit(&self, code: i32) {
        self.end.exit(code);
    }

    /// The sizes the shell's terminal was given, in order.
    pub fn sizes(&self) -> Vec<PtySize> {
        lock(&self.end.sizes).clone()
    }

    /// The program in the terminal asks for a password (echo off) or stops asking.
    pub fn hide_input(&self, hidden: bool) {
        self.end.hidden.store(hidden, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the server ended the shell.
    pub fn killed(&self) -> bool {
        *self.end.code.borrow() == Some(KILLED)
    }
}

/// A killed shell's exit status (128 + SIGKILL), as a real terminal reports it.
const KILLED: i32 = 137;

struct ShellEnd {
    code: watch::Sender<Option<i32>>,
    sizes: Mutex<Vec<PtySize>>,
    hidden: std::sync::atomic::AtomicBool,
}

impl ShellEnd {
    fn exit(&self, code: i32) {
        // The first end is the one that counts.
        self.code.send_if_modified(|c| c.is_none().then(|| *c = Some(code)).is_some());
    }
}

#[async_trait]
impl ShellControl for Arc<ShellEnd> {
    fn resize(&self, size: PtySize) -> std::io::Result<()> {
        lock(&self.sizes).push(size);
        Ok(())
    }

    async fn wait(&self) -> i32 {
        let mut code = self.code.subscribe();
        let ended = code.wait_for(Option::is_some).await.map(|c| *c);
        ended.ok().flatten().unwrap_or(KILLED)
    }

    fn kill(&self) {
        self.exit(KILLED);
    }

    fn input_hidden(&self) -> Option<bool> {
        Some(self.hidden.load(std::sync::atomic::Ordering::Relaxed))
    }
}

#[derive(Default)]
struct State {
    running: BTreeMap<String, SandboxInfo>,
    /// Owners whose files exist (made at their first start, deleted by a wipe).
    files: BTreeSet<String>,
    calls: Vec<Call>,
    /// How many sandboxes fit in all (`None`: the backend cannot tell).
    capacity: Option<u64>,
    start_delay: Duration,
    start_failures: VecDeque<String>,
    /// Shells opened and not yet taken by the test, by sandbox.
    terminals: HashMap<String, VecDeque<FakeTerminal>>,
    /// Every shell opened, by sandbox: they end with it.
    shells: HashMap<String, Vec<Arc<ShellEnd>>>,
}

impl State {
    /// Sandbox `name` ends, and every shell in it; whether it was running.
    fn end(&mut self, name: &str) -> bool {
        self.terminals.remove(name);
        for end in self.shells.remove(name).into_iter().flatten() {
            end.exit(KILLED);
        }
        self.running.remove(name).is_some()
    }
}

/// See the module's documentation.
pub struct FakeBackend {
    state: Mutex<State>,
    exec: Mutex<ExecHandler>,
}

impl Default for FakeBackend {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A command's output: `code` and what it printed.
pub fn output(code: i32, stdout: &str) -> ExecOutput {
    ExecOutput { end: ExecEnd::Exited(code), stdout: stdout.as_bytes().to_vec(), stderr: Vec::new(), took: Duration::ZERO }
}

impl FakeBackend {
    /// Every command succeeds and prints nothing; room without limit; starts at once.
    pub fn new() -> Self {
        Self { state: Mutex::new(State::default()), exec: Mutex::new(Box::new(|_, _| output(0, ""))) }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn record(&self, call: Call) {
        self.state().calls.push(call);
    }

    /// At most `capacity` sandboxes at once, which [`Backend::room`] reports as what is left.
    pub fn set_capacity(&self, capacity: Option<u64>) {
        self.state().capacity = capacity;
    }

    /// Every start takes this long.
    pub fn set_start_delay(&self, delay: Duration) {
        self.state().start_delay = delay;
    }

    /// The next start fails with `message` (each call adds one failing start).
    pub fn fail_next_start(&self, message: &str) {
        self.state().start_failures.push_back(message.to_string());
    }

    /// What commands run in sandboxes print from now on: `handler(sandbox, request)`.
    pub fn on_exec(&self, handler: impl FnMut(&str, &ExecRequest) -> ExecOutput + Send + 'static) {
        *lock(&self.exec) = Box::new(handler);
    }

    /// A sandbox of `owner`'s that runs already, as one left by an earlier server process.
    pub fn add_running(&self, owner: &str, started_at: SystemTime) -> SandboxInfo {
        let spec = SandboxSpec {
            name: format!("lab-{owner}"),
            owner: owner.to_string(),
            limits: Limits::default(),
            devices: Vec::new(),
            network: crate::Network::Isolated,
            init: crate::Init::Minimal,
        };
        let info = SandboxInfo { name: spec.name.clone(), owner: owner.to_string(), backend: "fake".into(), started_at, spec };
        let mut state = self.state();
        state.files.insert(owner.to_string());
        state.running.insert(info.name.clone(), info.clone());
        info
    }

    /// Every process of the sandbox dies, its shells too (it is no longer running; the files
    /// stay).
    pub fn vanish(&self, name: &str) {
        self.state().end(name);
    }

    pub fn is_running(&self, name: &str) -> bool {
        self.state().running.contains_key(name)
    }

    /// Whether `owner` has files (started once, not wiped since).
    pub fn has_files(&self, owner: &str) -> bool {
        self.state().files.contains(owner)
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.state().calls.clone()
    }

    /// How many calls so far match.
    pub fn count(&self, matches: impl Fn(&Call) -> bool) -> usize {
        self.state().calls.iter().filter(|c| matches(c)).count()
    }

    /// The oldest shell opened in sandbox `name` that the test has not taken yet.
    pub fn terminal(&self, name: &str) -> Option<FakeTerminal> {
        self.state().terminals.get_mut(name)?.pop_front()
    }

    fn must_run(&self, name: &str) -> Result<()> {
        if self.is_running(name) { Ok(()) } else { Err(Error::NotFound(name.to_string())) }
    }
}

/// How much a pipe between a fake shell and its reader holds before the writer waits.
const PIPE: usize = 64 * 1024;

/// Copies what the test's shell prints to the server's end until the shell ends, then closes
/// it: as a real terminal's output ends when its shell does (what was printed first is read
/// first).
async fn relay(mut printed: DuplexStream, mut relayed: DuplexStream, mut code: watch::Receiver<Option<i32>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0; PIPE];
    loop {
        tokio::select! {
            biased;
            read = printed.read(&mut buf) => match read {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if relayed.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            },
            // (The borrow of the value is dropped inside: it may not cross an await.)
            () = async { drop(code.wait_for(Option::is_some).await) } => break,
        }
    }
}

#[async_trait]
impl Backend for FakeBackend {
    fn kind(&self) -> &'static str {
        "fake"
    }

    async fn start(&self, spec: &SandboxSpec) -> Result<SandboxInfo> {
        let delay = {
            let mut state = self.state();
            state.calls.push(Call::Start(spec.name.clone()));
            if let Some(info) = state.running.get(&spec.name) {
                return Ok(info.clone());
            }
            if let Some(message) = state.start_failures.pop_front() {
                return Err(Error::create_failed(&spec.name, message));
            }
            state.start_delay
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let info = SandboxInfo {
            name: spec.name.clone(),
            owner: spec.owner.clone(),
            backend: "fake".into(),
            started_at: SystemTime::now(),
            spec: spec.clone(),
        };
        let mut state = self.state();
        state.files.insert(spec.owner.clone());
        Ok(state.running.entry(spec.name.clone()).or_insert(info).clone())
    }

    async fn running(&self) -> Result<Vec<SandboxInfo>> {
        let mut state = self.state();
        state.calls.push(Call::Running);
        Ok(state.running.values().cloned().collect())
    }

    async fn exec(&self, name: &str, request: ExecRequest) -> Result<ExecOutput> {
        self.record(Call::Exec { name: name.to_string(), argv: request.argv.clone(), env: request.env.clone(), timeout: request.timeout });
        self.must_run(name)?;
        let output = (lock(&self.exec))(name, &request);
        Ok(output)
    }

    async fn open_shell(&self, name: &str, request: ShellRequest) -> Result<Shell> {
        self.record(Call::OpenShell(name.to_string()));
        self.must_run(name)?;
        let (output, relayed) = tokio::io::duplex(PIPE);
        let (printed, screen) = tokio::io::duplex(PIPE);
        let (input, typed) = tokio::io::duplex(PIPE);
        let end = Arc::new(ShellEnd { code: watch::channel(None).0, sizes: Mutex::new(vec![request.size]), hidden: Default::default() });
        tokio::spawn(relay(printed, relayed, end.code.subscribe()));
        let terminal = FakeTerminal { typed, screen, end: end.clone() };
        let mut state = self.state();
        state.shells.entry(name.to_string()).or_default().push(end.clone());
        state.terminals.entry(name.to_string()).or_default().push_back(terminal);
        Ok(Shell { output: Box::pin(output), input: Box::pin(input), control: Box::new(end) })
    }

    async fn stop(&self, name: &str) -> Result<()> {
        let mut state = self.state();
        state.calls.push(Call::Stop(name.to_string()));
        if state.end(name) { Ok(()) } else { Err(Error::NotFound(name.to_string())) }
    }

    async fn wipe(&self, owner: &str) -> Result<()> {
        let mut state = self.state();
        state.calls.push(Call::Wipe(owner.to_string()));
        let names: Vec<String> = state.running.values().filter(|info| info.owner == owner).map(|info| info.name.clone()).collect();
        for name in names {
            state.end(&name);
        }
        state.files.remove(owner);
        Ok(())
    }

    async fn stats(&self, name: &str) -> Result<Stats> {
        self.record(Call::Stats(name.to_string()));
        self.must_run(name)?;
        let limit = self.state().running.get(name).map(|i| i.spec.limits.memory_bytes).unwrap_or_default();
        Ok(Stats { memory_bytes: 1 << 20, memory_limit_bytes: limit, pids: 1, ..Stats::default() })
    }

    async fn processes(&self, name: &str) -> Result<Vec<Process>> {
        self.record(Call::Processes(name.to_string()));
        self.must_run(name)?;
        Ok(vec![Process { pid: 1, command: "/sbin/init".into() }])
    }

    async fn kill(&self, name: &str, pid: i32, signal: i32) -> Result<()> {
        self.record(Call::Kill { name: name.to_string(), pid, signal });
        self.must_run(name)
    }

    async fn room(&self, _limits: &Limits) -> Result<Option<u64>> {
        let mut state = self.state();
        state.calls.push(Call::Room);
        let running = state.running.len() as u64;
        Ok(state.capacity.map(|c| c.saturating_sub(running)))
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn spec(owner: &str) -> SandboxSpec {
        SandboxSpec {
            name: format!("lab-{owner}"),
            owner: owner.into(),
            limits: Limits::default(),
            devices: Vec::new(),
            network: crate::Network::Isolated,
            init: crate::Init::Minimal,
        }
    }

    #[tokio::test]
    async fn keeps_the_backend_contract() {
        let fake = FakeBackend::new();
        let first = fake.start(&spec("ada")).await.unwrap();
        let again = fake.start(&spec("ada")).await.unwrap();
        assert_eq!(first, again, "a second start returns the running sandbox");
        fake.stop("lab-ada").await.unwrap();
        assert!(matches!(fake.stop("lab-ada").await, Err(Error::NotFound(_))));
        assert!(matches!(fake.exec("lab-ada", ExecRequest::script("true")).await, Err(Error::NotFound(_))));
        assert!(fake.has_files("ada"), "stopping keeps the files");
        fake.wipe("ada").await.unwrap();
        assert!(!fake.has_files("ada"));
        assert_eq!(fake.count(|c| matches!(c, Call::Start(_))), 2);
    }

    #[tokio::test]
    async fn reports_room_and_fails_starts_on_request() {
        let fake = FakeBackend::new();
        fake.set_capacity(Some(2));
        fake.start(&spec("ada")).await.unwrap();
        assert_eq!(fake.room(&Limits::default()).await.unwrap(), Some(1));
        fake.fail_next_start("no loop devices");
        let err = fake.start(&spec("bob")).await.unwrap_err();
        assert!(err.to_string().contains("no loop devices"), "{err}");
        fake.start(&spec("bob")).await.unwrap();
        assert_eq!(fake.room(&Limits::default()).await.unwrap(), Some(0));
    }

    #[tokio::test]
    async fn shells_are_pipes_the_test_holds_the_other_end_of() {
        let fake = FakeBackend::new();
        fake.start(&spec("ada")).await.unwrap();
        let mut shell = fake.open_shell("lab-ada", ShellRequest::default()).await.unwrap();
        let mut terminal = fake.terminal("lab-ada").unwrap();
        shell.input.write_all(b"ls\r").await.unwrap();
        let mut typed = [0; 3];
        terminal.typed.read_exact(&mut typed).await.unwrap();
        assert_eq!(&typed, b"ls\r");
        terminal.screen.write_all(b"notes.txt\r\n").await.unwrap();
        let mut seen = [0; 11];
        shell.output.read_exact(&mut seen).await.unwrap();
        assert_eq!(&seen, b"notes.txt\r\n");
        shell.control.resize(PtySize { cols: 120, rows: 40 }).unwrap();
        assert_eq!(terminal.sizes().last(), Some(&PtySize { cols: 120, rows: 40 }));
        terminal.exit(3);
        assert_eq!(shell.control.wait().await, 3);
    }

    #[tokio::test]
    async fn stopping_a_sandbox_ends_its_shells() {
        let fake = FakeBackend::new();
        fake.start(&spec("ada")).await.unwrap();
        let shell = fake.open_shell("lab-ada", ShellRequest::default()).await.unwrap();
        fake.stop("lab-ada").await.unwrap();
        assert_eq!(shell.control.wait().await, KILLED);
    }
}
