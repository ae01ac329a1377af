/**
 * {@code BucketActor}s (Pekko Typed), each the sole owner of one {@code ConnTable}, woken from Aeron by a doorbell; the {@code AdminActor} that fans admin commands out to buckets in slices; node assembly.
 */
package io.ctrack.shards;
