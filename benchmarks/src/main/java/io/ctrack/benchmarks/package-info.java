/**
 * JMH benchmarks. Run with and without {@code -Dagrona.disable.bounds.checks=true}; add {@code -prof gc} to see
 * allocation per operation. Results and the exact commands are recorded in {@code docs/BENCHMARKS.md}.
 */
package io.ctrack.benchmarks;
