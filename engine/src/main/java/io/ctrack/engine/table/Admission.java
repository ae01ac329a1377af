package io.ctrack.engine.table;

/**
 * Decides whether a connection may be committed: the global connection limit and per-zone limits, with the
 * counts they are checked against. A table asks before it creates a connection and reports every removal.
 * The embedded engine uses {@link LocalLimits}; a sharded node shares one lock-free implementation between
 * its buckets.
 */
public interface Admission
{
    /** Admitted. */
    int ADMITTED = -1;

    /**
     * Reserves room for one connection in {@code zone}.
     *
     * @return {@link #ADMITTED}, or the {@link io.ctrack.engine.status.EngineCounter} id of the refusal.
     */
    int tryAdmit(int zone);

    /** A connection admitted in {@code zone} is gone. */
    void release(int zone);
}
