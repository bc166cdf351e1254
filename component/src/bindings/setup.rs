//! The `setup` export (world `tracing`): configuration one call at a time.

use super::convert::{WitResult, config, key_values, wit_error};
use super::exports::wasm_otlp::tracing::setup;
use super::{Component, wit, with_tracer};

impl setup::Guest for Component {
    fn configure(config: wit::Config) -> WitResult<()> {
        let config = self::config(config);
        with_tracer(|t, host| t.configure(host, config)).map_err(wit_error)
    }

    fn register_scope(scope: wit::InstrumentationScope) -> WitResult<u32> {
        with_tracer(|t, _| {
            t.register_scope(scope.name, scope.version, key_values(scope.attributes))
        })
        .map_err(wit_error)
    }
}
