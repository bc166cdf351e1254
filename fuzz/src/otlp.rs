//! The collector's request decoders (the crate `collector-decode`) on untrusted bodies,
//! with the limits the collector gives them. Beyond not panicking, what the JSON decoder
//! accepts must survive a round trip through protobuf unchanged, and every decoder must
//! stay within its memory limit (which the decoders enforce themselves: a body over it is
//! refused, so libFuzzer's RSS limit catches a decoder that does not).

use collector_decode::{Format, Limits, gzip as inflate, json as json_decoder};
use prost::Message;

/// Spans in one request, as the collector's default.
const MAX_SPANS: usize = 10_000;

/// The most a body inflates to here.
const MAX_INFLATED: usize = 1 << 20;

/// Decodes `data` as OTLP JSON; what decodes must come back the same from its protobuf
/// encoding.
pub fn json(data: &[u8]) {
    let Ok(request) =
        json_decoder::decode(data, &Limits::for_body(Format::Json, data.len(), MAX_SPANS))
    else {
        return;
    };
    let encoded = request.to_proto().encode_to_vec();
    let unlimited = Limits {
        max_spans: usize::MAX,
        max_decoded_bytes: usize::MAX,
    };
    let decoded = collector_decode::protobuf::decode(&encoded, &unlimited)
        .expect("the protobuf encoding of a decoded request decodes");
    assert_eq!(
        decoded.to_proto().encode_to_vec(),
        encoded,
        "round trip through protobuf"
    );
}

/// Decodes `data` as OTLP protobuf.
pub fn protobuf(data: &[u8]) {
    let limits = Limits::for_body(Format::Protobuf, data.len(), MAX_SPANS);
    let _ = collector_decode::protobuf::decode(data, &limits);
}

/// Inflates `data` as gzip within a limit, then decodes the result both ways.
pub fn gzip(data: &[u8]) {
    if let Ok(inflated) = inflate::gunzip(data, MAX_INFLATED) {
        assert!(inflated.len() <= MAX_INFLATED);
        json(&inflated);
        protobuf(&inflated);
    }
}
