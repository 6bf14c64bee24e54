//! The binary embeds `ui/` with `include_dir!`, which cannot tell cargo to watch it on stable
//! Rust; this does, so editing the UI rebuilds.

fn main() {
    println!("cargo:rerun-if-changed=ui");
}
