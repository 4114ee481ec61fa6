/** Why a PEM or DER input was refused; stable strings that callers may switch on. */
export type PemErrorReason = "MALFORMED" | "WRONG_TYPE" | "BAD_SIGNATURE";

/**
 * A CSR, certificate or key could not be used: it is not PEM/DER at all or is truncated
 * (`MALFORMED`), it is a different kind of object than the caller asked for (`WRONG_TYPE`),
 * or its self-signature does not verify (`BAD_SIGNATURE`). The message never contains the
 * input itself, so it is safe to log or show to a client.
 */
export class PemError extends Error {
  /** Stable machine-readable reason. */
  readonly reason: PemErrorReason;

  /**
   * @param reason - stable reason code
   * @param message - human-readable detail, without the offending input
   * @param options - optional underlying error from the ASN.1 parser
   */
  constructor(reason: PemErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PemError";
    this.reason = reason;
  }
}
