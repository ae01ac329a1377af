/**
 * TCP tracking with Open vSwitch's pf-derived window tracking ({@code conntrack-tcp.c}): per-peer sequence
 * windows, window scaling, the loose path for connections picked up mid-stream, and the state each peer reaches.
 */
package io.ctrack.engine.tcp;
