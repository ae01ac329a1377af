/**
 * Embedded Aeron media driver lifecycle, the versioned batch and verdict wire formats (flyweights), and {@code PacketWorker}: parses, hashes and routes packets to bucket streams by the top bits of the symmetric hash, and collects verdicts. Back-pressure is retried and bounded, and every packet that cannot be published is counted.
 */
package io.ctrack.transport;
