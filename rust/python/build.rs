// `cargo test` links libpython (no `extension-module` feature); this adds the rpath so the test
// binary finds it at run time. It emits nothing for the extension module that maturin builds.
fn main() {
    pyo3_build_config::add_libpython_rpath_link_args();
}
