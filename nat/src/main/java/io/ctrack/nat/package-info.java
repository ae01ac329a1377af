/**
 * The {@code nat(...)} action in Open vSwitch's syntax ({@link io.ctrack.nat.NatActionParser}). The rest of NAT lives
 * where the data it works on lives: the unique-tuple search, translated connections and packet rewriting in
 * {@code engine} (the single-table engine NATs on its own, as Open vSwitch's conntrack does), and the two-bucket
 * reservation protocol in {@code shards} (only the bucket actor may touch its table; see docs/RUNTIME.md). Cluster
 * leasing of port blocks, when it comes, belongs here.
 */
package io.ctrack.nat;
