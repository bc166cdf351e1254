//! The collector over real HTTP on loopback: each test starts its own collector on
//! 127.0.0.1:0 with a temporary data directory (the durability and connection-limit tests
//! run the binary).

mod access;
mod common;
mod connections;
mod cors;
mod durability;
mod forward;
mod from_component;
mod host_check;
mod hostile_bodies;
mod ingest;
mod limits;
mod logs;
mod metrics;
mod query;
mod source_maps;
