/**
 * What a tracker answers and what it is asked to do: ct_state flags ({@link io.ctrack.engine.ct.CtState}),
 * the per-batch action ({@link io.ctrack.engine.ct.ExecParams}: zone, commit, force, mark and label) and the
 * verdict record ({@link io.ctrack.engine.ct.Verdict}).
 */
package io.ctrack.engine.ct;
