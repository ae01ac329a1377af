/**
 * Counters: one enum of everything the engine counts (every reason a packet is marked invalid, every drop,
 * every removal), with stable ids, backed by an Agrona {@link org.agrona.concurrent.AtomicBuffer} so another
 * thread can read them while the owner writes.
 */
package io.ctrack.engine.status;
