// The source of the Rust fixture: built with rustc at test time, then given a
// cargo-auditable .dep-v0 section with objcopy.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    println!("hello from a kensa fixture, {} arguments", args.len());
}
