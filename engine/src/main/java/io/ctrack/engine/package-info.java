/**
 * The connection-tracking engine with Open vSwitch's semantics, as single-threaded objects that take
 * {@code now} from their caller: {@link io.ctrack.engine.PacketPreprocessor} (what a packet thread does:
 * parse, reassemble fragments, extract the key) and {@link io.ctrack.engine.Conntrack} (that plus one
 * {@link io.ctrack.engine.table.ConnTable}: the embedded engine). No actors and no Aeron here.
 */
package io.ctrack.engine;
