package io.ctrack.engine.table;

import io.ctrack.engine.key.CtRequest;

/** Hears about translated connections whose alias lives in another bucket, when they go. */
public interface NatListener
{
    /**
     * Connection {@code ref} (id {@code connId}) is gone; its reply key {@code replyKey} (valid during the call)
     * has an alias in bucket {@code aliasBucket}, or is being reserved there if {@code pending}.
     */
    void released(int ref, long connId, int aliasBucket, CtRequest replyKey, boolean pending);
}
