use super::*;

fn previews(ports: PortRange) -> Arc<Previews> {
    let settings = PreviewSettings { bind: IpAddr::from([127, 0, 0, 1]), ports, idle: Duration::from_secs(60) };
    Previews::new(settings, CancellationToken::new())
}

/// A serve function that only waits to be stopped, and says when it was.
fn idle_server(
    stopped: Arc<AtomicUsize>,
) -> impl FnOnce(TcpListener, Arc<Activity>, CancellationToken) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
    move |_listener, _activity, stop| {
        Box::pin(async move {
            stop.cancelled().await;
            stopped.fetch_add(1, Ordering::Relaxed);
        })
    }
}

#[test]
fn port_ranges() {
    assert_eq!("any".parse::<PortRange>(), Ok(PortRange::Any));
    assert_eq!("off".parse::<PortRange>(), Ok(PortRange::Off));
    assert_eq!("20000-20099".parse::<PortRange>(), Ok(PortRange::Fixed(20000..=20099)));
    for bad in ["", "20000", "9-1", "0-10", "a-b", "1-70000"] {
        let e = bad.parse::<PortRange>().unwrap_err();
        assert!(e.contains("FIRST-LAST"), "{bad}: {e}");
    }
}

#[tokio::test]
async fn a_preview_is_opened_once_and_reused() {
    let previews = previews(PortRange::Any);
    let stopped = Arc::new(AtomicUsize::new(0));
    let first = previews.open("ana", 8080, idle_server(stopped.clone())).await.unwrap();
    let again = previews.open("ana", 8080, idle_server(stopped.clone())).await.unwrap();
    let other = previews.open("ben", 8080, idle_server(stopped.clone())).await.unwrap();
    assert_eq!(first, again);
    assert_ne!(first, other, "every learner's preview is an origin of its own");
    assert_eq!(previews.previewing(first), Some(("ana".to_string(), 8080)));
    assert_eq!(previews.of("ana"), vec![(8080, first)]);
    previews.close_all("ana");
    tokio::task::yield_now().await;
    assert_eq!(previews.of("ana"), vec![]);
    assert_eq!(previews.of("ben").len(), 1);
}

#[tokio::test]
async fn a_learner_has_a_bounded_number_of_previews() {
    let previews = previews(PortRange::Any);
    let stopped = Arc::new(AtomicUsize::new(0));
    for port in 0..PER_LEARNER as u16 + 3 {
        previews.open("ana", 3000 + port, idle_server(stopped.clone())).await.unwrap();
    }
    let open = previews.of("ana");
    assert_eq!(open.len(), PER_LEARNER);
    // The oldest went first.
    assert_eq!(open.first().map(|(p, _)| *p), Some(3003));
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert_eq!(stopped.load(Ordering::Relaxed), 3);
}

#[tokio::test]
async fn a_fixed_range_runs_out_with_a_clear_error() {
    // Two free ports next to each other, found by asking the kernel for one and trying the next.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let first = probe.local_addr().unwrap().port();
    drop(probe);
    let previews = previews(PortRange::Fixed(first..=first));
    let stopped = Arc::new(AtomicUsize::new(0));
    assert_eq!(previews.open("ana", 80, idle_server(stopped.clone())).await.unwrap(), first);
    let e = previews.open("ana", 81, idle_server(stopped.clone())).await.unwrap_err();
    assert_eq!(e.to_string(), format!("every preview port ({first}-{first}) is in use"));
    let off = self::previews(PortRange::Off);
    assert!(!off.enabled());
    assert!(matches!(off.open("ana", 80, idle_server(stopped)).await, Err(PreviewError::Off)));
}

#[tokio::test]
async fn idle_previews_close_and_held_ones_stay() {
    let settings = PreviewSettings { bind: IpAddr::from([127, 0, 0, 1]), ports: PortRange::Any, idle: Duration::ZERO };
    let previews = Previews::new(settings, CancellationToken::new());
    let held = Arc::new(Mutex::new(None));
    let keep = held.clone();
    previews
        .open("ana", 1, move |_l, activity: Arc<Activity>, stop: CancellationToken| {
            *keep.lock().unwrap() = Some(activity.hold());
            async move { stop.cancelled().await }
        })
        .await
        .unwrap();
    previews.open("ana", 2, idle_server(Arc::new(AtomicUsize::new(0)))).await.unwrap();
    previews.close_idle();
    assert_eq!(previews.of("ana").iter().map(|(p, _)| *p).collect::<Vec<_>>(), vec![1], "a WebSocket keeps its preview open");
    held.lock().unwrap().take();
    previews.close_idle();
    assert!(previews.of("ana").is_empty());
}
