/**
 * {@code ctrack bench}: Open vSwitch's own conntrack benchmark workloads ({@code test-conntrack benchmark} and
 * {@code benchmark-zones}, same packets, same steps, same output) run through the full sharded path, plus
 * workloads Open vSwitch has none for (insert rate, flush under traffic). Latencies go into HdrHistograms.
 */
package io.ctrack.app.bench;
