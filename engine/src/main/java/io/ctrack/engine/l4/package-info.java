/**
 * L4 trackers behind one interface, dispatched by protocol number as Open vSwitch's {@code l4_protos[]}:
 * TCP ({@code io.ctrack.engine.tcp}), ICMP and ICMPv6 (request/reply), and every other protocol, UDP and SCTP
 * included (first/multiple/bidirectional).
 */
package io.ctrack.engine.l4;
