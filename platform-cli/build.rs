//! The binary embeds `templates/`, the hand-written parts and the examples with `include_dir!`, which cannot
//! tell cargo to watch them on stable Rust; this does, so editing a template rebuilds.

fn main() {
    for dir in [
        "../templates",
        "../terraform/modules",
        "../helm/charts",
        "../observability/dashboards",
        "../observability/tests",
        "../examples",
    ] {
        println!("cargo:rerun-if-changed={dir}");
    }
}
