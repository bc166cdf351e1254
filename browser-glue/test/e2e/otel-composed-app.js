// The page for the wasi:otel example guest built for wasm32-unknown-unknown, composed with
// the tracing component (`just compose`, transpiled by jco into gen/otel-composed/, and
// the guest built against the tag text into gen/otel-tag-text-composed/, by
// `just transpile-composed`). Its only WASI import is the wall clock, which the guest's
// SDK stamps its spans with: jco's browser shim gives it.
import { wallClock } from '@bytecodealliance/preview2-shim/clocks';
import { instantiate } from 'composition';
import { otelGuestApp } from './otel-guest-page.js';

otelGuestApp(instantiate, { 'wasi:clocks/wall-clock': wallClock });
