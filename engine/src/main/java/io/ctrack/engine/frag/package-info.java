/**
 * IP fragment reassembly before tracking, with Open vSwitch's rules ({@code lib/ipf.c}): fragments are held
 * until their datagram is complete, then the datagram is tracked once and every fragment gets its verdict.
 * Memory is bounded: a fixed number of fragment slots of a fixed size, allocated once.
 */
package io.ctrack.engine.frag;
