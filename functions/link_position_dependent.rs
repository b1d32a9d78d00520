//! Build script shared by the Lambda functions (and the cold-start floor, so the comparison is
//! fair): links each binary as a position-dependent executable on Linux. A position-independent
//! one makes the loader patch every pointer in its read-only data at start, copying each of those
//! pages (about 55 page faults here); without it, the pages are only read when used, and init is
//! about 0.5 ms cheaper (docs/decisions.md, "Cold start"). The address space of the heap, the
//! stack and the shared libraries is still randomised; the executable's own is not.
fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
