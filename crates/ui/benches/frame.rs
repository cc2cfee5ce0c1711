//! Frame cost.
fn main() {}
