/**
 * Classic libpcap files: a reader over a memory-mapped file (microsecond and nanosecond variants, either byte
 * order, Ethernet link type) and a writer. Problems with a file are {@link io.ctrack.engine.pcap.PcapFormatException}s
 * whose message names the file and what is wrong with it.
 */
package io.ctrack.engine.pcap;
