//! Where the built components are found.

use std::path::{Path, PathBuf};

/// Environment variable that overrides [`default_component_path`].
pub const COMPONENT_PATH_ENV: &str = "WASM_OTLP_COMPONENT";

/// Environment variable that overrides [`default_browser_component_path`].
pub const BROWSER_COMPONENT_PATH_ENV: &str = "WASM_OTLP_BROWSER_COMPONENT";

/// The world `tracing` component `just build-component` produces:
/// `dist/wasm_otlp_tracing.wasm` at the workspace root, unless the environment variable
/// [`COMPONENT_PATH_ENV`] names another file.
pub fn default_component_path() -> PathBuf {
    dist_path(COMPONENT_PATH_ENV, "wasm_otlp_tracing.wasm")
}

/// The world `browser` component (no `tracer` export) `just build-component` produces
/// for jco: `dist/wasm_otlp_browser.wasm` at the workspace root, unless the environment
/// variable [`BROWSER_COMPONENT_PATH_ENV`] names another file.
pub fn default_browser_component_path() -> PathBuf {
    dist_path(BROWSER_COMPONENT_PATH_ENV, "wasm_otlp_browser.wasm")
}

/// The file the environment variable `env` names, else `dist/<file>` at the workspace root.
fn dist_path(env: &str, file: &str) -> PathBuf {
    match std::env::var_os(env) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => {
            let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
            let workspace = crate_dir.parent().unwrap_or(crate_dir);
            workspace.join("dist").join(file)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn is_in_dist_unless_overridden(path: &Path, env: &str, file: &str) {
        match std::env::var_os(env) {
            Some(overridden) if !overridden.is_empty() => {
                assert_eq!(path, PathBuf::from(overridden))
            }
            _ => {
                assert!(
                    path.ends_with(Path::new("dist").join(file)),
                    "{}",
                    path.display()
                );
                let workspace = path.parent().and_then(Path::parent).expect("two levels up");
                assert!(
                    workspace.join("Cargo.toml").is_file(),
                    "{}",
                    workspace.display()
                );
                assert!(
                    workspace.join("wit/tracing.wit").is_file(),
                    "{}",
                    workspace.display()
                );
            }
        }
    }

    #[test]
    fn the_default_path_is_dist_at_the_workspace_root_unless_overridden() {
        is_in_dist_unless_overridden(
            &default_component_path(),
            COMPONENT_PATH_ENV,
            "wasm_otlp_tracing.wasm",
        );
    }

    #[test]
    fn the_browser_component_has_its_own_dist_path_and_override() {
        is_in_dist_unless_overridden(
            &default_browser_component_path(),
            BROWSER_COMPONENT_PATH_ENV,
            "wasm_otlp_browser.wasm",
        );
    }
}
