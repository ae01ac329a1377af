/**
 * Test support shipped in the engine's test-jar for every module's tests: {@link io.ctrack.engine.testing.TestPackets}
 * (frames with correct or deliberately broken headers and checksums), {@link io.ctrack.engine.testing.ConntrackDriver}
 * (an embedded engine driven one frame or batch at a time with explicit time) and
 * {@link io.ctrack.engine.testing.Corpus} (the reference captures and Open vSwitch's verdicts, skipped visibly when
 * absent).
 */
package io.ctrack.engine.testing;
