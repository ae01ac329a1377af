/**
 * The public, versioned wire formats between packet workers and buckets (documented in {@code docs/WIRE.md}):
 * a batch of connection-tracking requests with the ct() action that applies to them, and a batch of verdicts.
 * Both are flyweights over the Aeron term buffer space a publisher claims, so nothing is copied twice.
 */
package io.ctrack.transport.wire;
