/**
 * Embedded Aeron media driver lifecycle, the IPC streams between packet workers and buckets, the doorbells that
 * wake parked buckets, the bucket's end of the streams ({@link io.ctrack.transport.BucketEndpoint}) and
 * {@link io.ctrack.transport.PacketWorker}, the API a packet-processing thread uses: it parses, hashes and routes
 * packets to bucket streams by the top bits of the symmetric hash, and collects the verdicts. Back-pressure is
 * retried and bounded; every packet that cannot be published or answered is counted and returned as a drop.
 */
package io.ctrack.transport;
