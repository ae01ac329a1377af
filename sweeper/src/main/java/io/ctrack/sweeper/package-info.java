/**
 * {@code SweeperActor}s that expire idle connections incrementally: each step asks a bucket to remove at most a budget of expired connections and schedules the next step from what remains due.
 */
package io.ctrack.sweeper;
