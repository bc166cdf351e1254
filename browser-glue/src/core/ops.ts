/**
 * Writes span operations into the recorder's op-batch format (documented in
 * `component/src/recorder/ops.rs`): opcodes and integers into a `Uint32Array`, times and
 * floats into a `Float64Array`, strings concatenated into one string. Recording a span
 * costs a few typed-array writes; the component sees the batch in one call.
 */

/** Opcodes, as in `ops.rs`. */
export const enum Op {
  Start = 1,
  Attr = 2,
  Event = 3,
  Link = 4,
  Status = 5,
  End = 6,
  Name = 7,
  Configure = 8,
  Scope = 9,
  Log = 10,
  Clock = 11,
}

const enum Type {
  String = 0,
  Bool = 1,
  S64 = 2,
  F64 = 3,
  StringArray = 4,
  BoolArray = 5,
  S64Array = 6,
  F64Array = 7,
}

/** A value an attribute can hold. */
export type AttributeValue = string | number | boolean | bigint | string[] | number[] | boolean[] | bigint[];

/** Attributes as a plain object. */
export type Attributes = Record<string, AttributeValue | null | undefined>;

/** What the `CONFIGURE` operation carries: `types.config`, flattened. */
export interface Settings {
  /** 0 always on, 1 always off, 2 trace-ID ratio, 3 parent-based ratio. */
  sampler: number;
  /** The sampler's ratio (ignored by 0 and 1). */
  ratio: number;
  /** Attributes, value length, events, links, attributes per event or link. */
  limits: [number, number, number, number, number];
  /** Batch size, batch bytes (0: no bound), queue size, delay in ms, open spans. */
  batch: [number, number, number, number, number];
  resource: Attributes;
  /** The default scope's name and version. */
  scope: [string, string];
}

/** One batch, ready for `recorder.apply`. */
export interface OpBatch {
  words: Uint32Array;
  numbers: Float64Array;
  text: string;
  timeOriginUnixNanos: bigint;
}

const TWO_32 = 2 ** 32;

/** The growing buffers of one batch. */
export class OpWriter {
  private words = new Uint32Array(1 << 15);
  private w = 0;
  private numbers = new Float64Array(1 << 12);
  private n = 0;
  private text = '';
  /** Spans ended since the last drain. */
  ended = 0;

  constructor(private readonly timeOriginUnixNanos: bigint) {}

  /** Whether anything waits to be applied. */
  get isEmpty(): boolean {
    return this.w === 0;
  }

  /** Makes room for `words` more words and `numbers` more numbers. */
  reserve(words: number, numbers: number): void {
    if (this.w + words > this.words.length) {
      const grown = new Uint32Array(Math.max(this.words.length * 2, this.w + words));
      grown.set(this.words.subarray(0, this.w));
      this.words = grown;
    }
    if (this.n + numbers > this.numbers.length) {
      const grown = new Float64Array(Math.max(this.numbers.length * 2, this.n + numbers));
      grown.set(this.numbers.subarray(0, this.n));
      this.numbers = grown;
    }
  }

  /** An opcode and the span it applies to. */
  op(op: Op, hi: number, lo: number): void {
    this.reserve(3, 0);
    const words = this.words;
    words[this.w++] = op;
    words[this.w++] = hi;
    words[this.w++] = lo;
  }

  /** One word (the caller reserved room). */
  word(value: number): void {
    this.reserve(1, 0);
    this.words[this.w++] = value;
  }

  /** Takes back the last `count` words (an operation that turned out not to be carried). */
  unwrite(count: number): void {
    this.w -= count;
  }

  /**
   * A string operand: its UTF-16 length, and the text appended. Made well-formed first (a
   * lone surrogate becomes U+FFFD, which keeps the length): two strings ending and
   * beginning with the halves of one character would otherwise fuse into one character
   * when the batch's text is encoded, and every later length would be off by one. A
   * non-string (from untyped callers) is recorded as its `String()` text.
   */
  string(value: string): void {
    const text = wellFormed(typeof value === 'string' ? value : textOf(value));
    this.reserve(1, 0);
    this.words[this.w++] = text.length;
    this.text += text;
  }

  /** A time in milliseconds after the time origin, or another number operand. */
  time(ms: number): void {
    this.reserve(0, 1);
    this.numbers[this.n++] = ms;
  }

  /** `CONFIGURE`: replaces the component's configuration. */
  configure(settings: Settings): void {
    this.word(Op.Configure);
    this.word(settings.sampler);
    this.time(settings.ratio);
    for (const word of [...settings.limits, ...settings.batch]) this.word(word);
    this.attributeList(settings.resource);
    this.scopeFields(...settings.scope);
  }

  /** `SCOPE`: registers an instrumentation scope (the component numbers them 1, 2, ...). */
  scope(name: string, version: string): void {
    this.word(Op.Scope);
    this.scopeFields(name, version);
  }

  private scopeFields(name: string, version: string): void {
    this.string(name);
    this.string(version);
    this.word(0);
  }

  /** A signed 64-bit integer as two words (from a safe integer or a bigint). */
  s64(value: number | bigint): void {
    if (typeof value === 'bigint') {
      const v = BigInt.asUintN(64, value);
      this.word(Number(v >> 32n));
      this.word(Number(v & 0xffffffffn));
    } else {
      this.word(Math.floor(value / TWO_32) >>> 0);
      this.word(value >>> 0);
    }
  }

  /** `count` attributes follow (for events and links). */
  count(count: number): void {
    this.word(count);
  }

  /**
   * One attribute. Returns false (writing nothing) for values the SDK cannot carry:
   * null, undefined, objects, mixed arrays. Integers that fit in 64 bits are `intValue`,
   * other numbers `doubleValue`, as OpenTelemetry JS does.
   */
  attribute(key: string, value: AttributeValue | null | undefined): boolean {
    const type = typeOf(value);
    if (type < 0) return false;
    this.string(key);
    this.word(type);
    switch (type) {
      case Type.String:
        this.string(value as string);
        break;
      case Type.Bool:
        this.word(value ? 1 : 0);
        break;
      case Type.S64:
        this.s64(value as number | bigint);
        break;
      case Type.F64:
        // As text: JavaScript's shortest round-trip form spares the component a float formatter.
        this.string(String(value));
        break;
      default: {
        const items = value as AttributeValue[];
        this.word(items.length);
        for (const item of items) {
          if (type === Type.StringArray) this.string(item as string);
          else if (type === Type.BoolArray) this.word(item ? 1 : 0);
          else if (type === Type.S64Array) this.s64(item as number | bigint);
          else this.string(String(item));
        }
      }
    }
    return true;
  }

  /** Writes every carried attribute of `attributes` with a leading count. */
  attributeList(attributes: Attributes | undefined): void {
    this.reserve(1, 0);
    const at = this.w++;
    let count = 0;
    if (attributes) for (const key in attributes) if (this.attribute(key, attributes[key])) count++;
    this.words[at] = count;
  }

  /**
   * Hands out the batch and starts a new one. The batch views this writer's buffers: apply
   * it before writing again (`recorder.apply` copies it synchronously).
   */
  drain(): OpBatch {
    const batch = {
      words: this.words.subarray(0, this.w),
      numbers: this.numbers.subarray(0, this.n),
      text: this.text,
      timeOriginUnixNanos: this.timeOriginUnixNanos,
    };
    this.w = 0;
    this.n = 0;
    this.text = '';
    this.ended = 0;
    return batch;
  }
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `value` with each lone surrogate replaced by U+FFFD (`toWellFormed`, where the engine has it). */
const wellFormed: (value: string) => string =
  typeof (String.prototype as { toWellFormed?: unknown }).toWellFormed === 'function'
    ? (value) => (value as string & { toWellFormed(): string }).toWellFormed()
    : (value) => value.replace(LONE_SURROGATE, '\uFFFD');

/** `String(value)`, or empty when even that throws (an object whose `toString` throws). */
function textOf(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '';
  }
}

function typeOf(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return Type.String;
    case 'boolean':
      return Type.Bool;
    case 'bigint':
      return Type.S64;
    case 'number':
      return Number.isSafeInteger(value) ? Type.S64 : Type.F64;
  }
  if (!Array.isArray(value)) return -1;
  // Arrays are homogeneous in OTLP; an empty one is an empty string array.
  const first = value.length ? typeOf(value[0]) : Type.String;
  if (first < 0 || first > Type.F64) return -1;
  let type = first;
  for (const item of value) {
    const t = typeOf(item);
    if (t === type) continue;
    // Mixed integers and floats are all floats; anything else is not carried.
    if ((t === Type.F64 || t === Type.S64) && (type === Type.F64 || type === Type.S64) && typeof item === 'number') type = Type.F64;
    else return -1;
  }
  if (type === Type.F64 && value.some((v) => typeof v !== 'number')) return -1;
  return type + 4;
}
