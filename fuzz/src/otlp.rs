//! The collector's request decoders (the crate `collector-decode`) on untrusted bodies,
//! with the limits the collector gives them, each body read both as a trace request and
//! as a logs request (the decoders share all but the items, so one target per format
//! covers both). Beyond not panicking, what the JSON decoder accepts must survive a round
//! trip through protobuf unchanged, and every decoder must stay within its memory limit
//! (which the decoders enforce themselves: a body over it is refused, so libFuzzer's RSS
//! limit catches a decoder that does not).

use collector_decode::protobuf as protobuf_decoder;
use collector_decode::{DecodeError, Format, Limits, gzip as inflate, json as json_decoder};
use prost::Message;

/// Spans (or log records) in one request, as the collector's default.
const MAX_SPANS: usize = 10_000;

/// The most a body inflates to here.
const MAX_INFLATED: usize = 1 << 20;

/// No limits: for decoding again what was decoded within them.
const UNLIMITED: Limits = Limits {
    max_spans: usize::MAX,
    max_decoded_bytes: usize::MAX,
};

/// Decodes `data` as OTLP JSON, a trace and a logs request; what decodes must come back
/// the same from its protobuf encoding.
pub fn json(data: &[u8]) {
    let limits = Limits::for_body(Format::Json, data.len(), MAX_SPANS);
    if let Ok(request) = json_decoder::decode(data, &limits) {
        round_trip(request.to_proto(), |bytes| {
            protobuf_decoder::decode(bytes, &UNLIMITED).map(|r| r.to_proto())
        });
    }
    if let Ok(request) = json_decoder::decode_logs(data, &limits) {
        round_trip(request.to_proto(), |bytes| {
            protobuf_decoder::decode_logs(bytes, &UNLIMITED).map(|r| r.to_proto())
        });
    }
}

/// `message`, decoded from JSON, encoded as protobuf, must decode (with `decode`) to a
/// message of the same encoding.
fn round_trip<M: Message>(message: M, decode: impl FnOnce(&[u8]) -> Result<M, DecodeError>) {
    let encoded = message.encode_to_vec();
    let decoded = decode(&encoded).expect("the protobuf encoding of a decoded request decodes");
    assert_eq!(
        decoded.encode_to_vec(),
        encoded,
        "round trip through protobuf"
    );
}

/// Decodes `data` as OTLP protobuf, a trace and a logs request.
pub fn protobuf(data: &[u8]) {
    let limits = Limits::for_body(Format::Protobuf, data.len(), MAX_SPANS);
    let _ = protobuf_decoder::decode(data, &limits);
    let _ = protobuf_decoder::decode_logs(data, &limits);
}

/// Inflates `data` as gzip within a limit, then decodes the result in both formats.
pub fn gzip(data: &[u8]) {
    if let Ok(inflated) = inflate::gunzip(data, MAX_INFLATED) {
        assert!(inflated.len() <= MAX_INFLATED);
        json(&inflated);
        protobuf(&inflated);
    }
}
