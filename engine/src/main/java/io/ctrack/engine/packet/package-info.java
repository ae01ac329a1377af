/**
 * Frame parsing: Ethernet (802.1Q/802.1ad tags, LLC/SNAP, MPLS), IPv4 and IPv6 with extension headers,
 * the layer offsets Open vSwitch's {@code miniflow_extract} would set, and the Internet and CRC32c
 * checksums the tracker validates. Everything here works on Agrona buffers, allocates nothing per packet
 * and never throws on malformed input: a frame that cannot be parsed is reported by its offsets.
 */
package io.ctrack.engine.packet;
