//! The sandbox helper as its own executable, for this crate's tests and development. The server
//! runs the same code as `stacklab sandbox-helper`.

fn main() {
    sandbox::native::builder::main()
}
