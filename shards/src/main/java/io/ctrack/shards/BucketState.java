package io.ctrack.shards;

import io.ctrack.engine.status.EngineCounters;
import io.ctrack.engine.table.ConnTable;
import io.ctrack.engine.timeout.TimeoutPolicies;
import io.ctrack.transport.BucketEndpoint;

/**
 * What a bucket owns: its table, its end of the streams, its counters and its copy of the timeout policies.
 * It lives outside the bucket's behavior so that a restart after a failure gets the same table back: a
 * restart that rebuilt an empty table would lose every connection of the bucket. Touched only by the bucket's
 * actor (one message at a time), never by another thread, except the counters, which anyone may read.
 */
final class BucketState
{
    final int bucketId;
    final ConnTable table;
    final BucketEndpoint endpoint;
    final EngineCounters counters;
    final TimeoutPolicies policies;
    /** The embedded driver's shared duty cycle, or null when the driver has a thread of its own. */
    final io.ctrack.transport.DriverDuty driverDuty;
    volatile long restarts;
    /** The bucket's side of NAT across buckets; set once the node knows every bucket, before any packet. */
    NatBucket nat;
    /** The node's doorbells (a bucket rings another when it forwards packets into its stream). */
    io.ctrack.transport.Doorbells doorbells;
    /** The single-pass pipeline's stage on this bucket's table. */
    io.ctrack.engine.flow.SinglePassStage stage;
    /** The node's pipeline (read once per pipeline batch; replaced whole when the rules change). */
    java.util.concurrent.atomic.AtomicReference<io.ctrack.engine.flow.FlowTables> flowTables;
    /** Requests left before an injected fault fires inside a batch (-1: none armed). */
    int faultAfterRequests = -1;

    BucketState(final int bucketId, final ConnTable table, final BucketEndpoint endpoint,
        final EngineCounters counters, final TimeoutPolicies policies, final io.ctrack.transport.DriverDuty driverDuty)
    {
        this.driverDuty = driverDuty;
        this.bucketId = bucketId;
        this.table = table;
        this.endpoint = endpoint;
        this.counters = counters;
        this.policies = policies;
    }
}
