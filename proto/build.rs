//! Compiles the `.proto` files with protox (pure Rust), so no system `protoc` is needed.
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/namenode.proto", "proto/datanode.proto"];
    for f in files {
        println!("cargo:rerun-if-changed={f}");
    }
    let fds = protox::compile(files, ["proto"])?;
    // Our codec: malformed messages are InvalidArgument (see src/codec.rs).
    tonic_prost_build::configure().bytes(".").codec_path("crate::codec::StrictCodec").compile_fds(fds)?;
    Ok(())
}
