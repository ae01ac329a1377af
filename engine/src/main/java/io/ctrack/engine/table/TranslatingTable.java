package io.ctrack.engine.table;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.nat.NatSpec;
import io.ctrack.engine.nat.UniqueTupleSearch;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.engine.timeout.TimeoutPolicies;

import static io.ctrack.engine.table.ConnStore.*;

/**
 * The NAT half of a {@link ConnTable}: the unique-tuple search of translated connections, their rewrites, and the
 * links with other buckets' tables (a reply tuple reserved in another bucket is pending until that bucket answers;
 * a reply tuple this bucket holds for another bucket's connection is an alias).
 */
abstract class TranslatingTable extends ConnTableStorage
{
    /** Basis of the NAT range hash (Open vSwitch's per-process {@code hash_basis}); the same on every bucket. */
    static final long NAT_HASH_BASIS = 0x5BD1_E995_2B61_0F4DL;
    static final int SEARCH_FOUND = 0;
    static final int SEARCH_REMOTE = 1;
    static final int SEARCH_EXHAUSTED = 2;
    /** The reservation was granted: the connection is complete. */
    public static final int RESERVATION_COMPLETED = 0;
    /** Refused: the next candidate is in another bucket ({@link #pendingCandidate}, {@link #pendingBucket}). */
    public static final int RESERVATION_NEXT = 1;
    /** Refused and no candidate left: the connection was removed (counted as exhaustion). */
    public static final int RESERVATION_EXHAUSTED = 2;
    /** The connection is no longer waiting (removed meanwhile): a granted reservation must be released. */
    public static final int RESERVATION_STALE = 3;

    final UniqueTupleSearch localSearch;
    final CtRequest candidate = new CtRequest();
    final CtRequest scratchKey = new CtRequest();
    final org.agrona.collections.Int2ObjectHashMap<Pending> pending = new org.agrona.collections.Int2ObjectHashMap<>();
    final java.util.ArrayDeque<UniqueTupleSearch> freeSearches = new java.util.ArrayDeque<>();
    Placement placement = Placement.LOCAL;
    NatListener natListener;

    TranslatingTable(final ConnTableConfig config, final TimeoutPolicies policies, final Admission admission,
        final EngineCounters counters)
    {
        super(config, policies, admission, counters);
        this.localSearch = new UniqueTupleSearch(NAT_HASH_BASIS, idBase + 1);
    }

    @Override
    final void releaseTranslation(final int ref, final long meta, final ConnStore s, final int slot)
    {
        final long[] d = s.data;
        final int b = slot * s.stride;
        if ((meta & Meta.PENDING) != 0)
        {
            final Pending pend = pending.remove(ref);
            if (natListener != null && pend != null)
            {
                natListener.released(ref, d[b + ID], pend.bucket, pend.candidate, true);
            }
            recycle(pend);
        }
        else if ((meta & Meta.REMOTE_REPLY) != 0)
        {
            if (natListener != null)
            {
                replyKey(ref, scratchKey);
                natListener.released(ref, d[b + ID], s.replyBucket[slot], scratchKey, false);
            }
        }
        else if ((meta & Meta.HAS_REPLY_KEY) != 0)
        {
            replyKey(ref, scratchKey);
            index.remove(scratchKey.hash(), ref);
        }
    }

    /** The ct_state bit of the translation a packet of this direction gets (the reply of SNAT is DNAT'ed). */
    static int natState(final long meta, final boolean reply)
    {
        final boolean src = (Meta.natAction(meta) & NatSpec.ACTION_SRC) != 0;
        return src != reply ? CtState.SRC_NAT : CtState.DST_NAT;
    }

    /**
     * Writes the rewrite of Open vSwitch's {@code nat_packet}: the packet takes the addresses and ports of the
     * connection's other key, reversed. Source translation of an original-direction packet sets the source address
     * to the reply key's destination; every rewrite sets both ports (ICMP: the id) from that key.
     */
    void writeNat(final int ref, final boolean reply, final boolean related, final Verdict out)
    {
        final ConnStore s = store(ref);
        final int slot = Refs.slot(ref);
        final long[] d = s.data;
        final int b = slot * s.stride;
        final boolean v6 = Refs.isV6(ref);
        final boolean srcAction = (Meta.natAction(d[b + META]) & NatSpec.ACTION_SRC) != 0;
        // The key whose reverse the packet must look like: the reply key for original-direction packets.
        final boolean rewriteSource = srcAction != reply;
        final int keySrcL4;
        final int keyDstL4;
        final long addrHi;
        final long addrLo;
        if (!reply)
        {
            final long l4 = s.replyL4[slot];
            keySrcL4 = (int)(l4 >>> 32);
            keyDstL4 = (int)l4;
            final int at = slot * s.addrWords;
            if (v6)
            {
                addrHi = rewriteSource ? s.replyAddr[at + 2] : s.replyAddr[at];
                addrLo = rewriteSource ? s.replyAddr[at + 3] : s.replyAddr[at + 1];
            }
            else
            {
                final long a = s.replyAddr[at];
                addrHi = 0;
                addrLo = rewriteSource ? a & LOW32 : a >>> 32;
            }
        }
        else
        {
            keySrcL4 = (int)(d[b + ORIG_L4] >>> 32);
            keyDstL4 = (int)d[b + ORIG_L4];
            if (v6)
            {
                addrHi = rewriteSource ? d[b + ORIG_ADDR + 2] : d[b + ORIG_ADDR];
                addrLo = rewriteSource ? d[b + ORIG_ADDR + 3] : d[b + ORIG_ADDR + 1];
            }
            else
            {
                final long a = d[b + ORIG_ADDR];
                addrHi = 0;
                addrLo = rewriteSource ? a & LOW32 : a >>> 32;
            }
        }
        int op = rewriteSource ? Verdict.NAT_REWRITE_SOURCE : Verdict.NAT_REWRITE_DESTINATION;
        if (related)
        {
            op |= Verdict.NAT_RELATED;
        }
        out.nat(op, keySrcL4 >>> 16, keyDstL4 >>> 16, addrHi, addrLo);
    }

    /**
     * Runs the search of translated connection {@code ref} on: candidates that hash to this bucket are checked
     * here; the first free one completes the connection. Stops at the first candidate of another bucket (left in
     * {@link #candidate}), or removes the connection when the search is exhausted.
     */
    int continueSearch(final int ref, final UniqueTupleSearch search, final long nowMs)
    {
        while (search.next(candidate))
        {
            counters.increment(EngineCounter.NAT_TRIES);
            if (!placement.isLocal(candidate.hash()))
            {
                return SEARCH_REMOTE;
            }
            if (lookup(candidate, nowMs, false) == 0)
            {
                setReplyKey(ref, candidate, -1);
                index.insert(candidate.hash(), ref | Refs.MATCH_REPLY);
                return SEARCH_FOUND;
            }
        }
        counters.increment(EngineCounter.NAT_EXHAUSTED);
        removeEntry(ref, null);
        return SEARCH_EXHAUSTED;
    }

    // ---- NAT across buckets -------------------------------------------------------------------------------------

    /** A translated connection waiting for its reply tuple's reservation in another bucket. */
    static final class Pending
    {
        final UniqueTupleSearch search;
        final long connId;
        int bucket;
        final CtRequest candidate;

        Pending(final UniqueTupleSearch search, final long connId, final int bucket, final CtRequest candidate)
        {
            this.search = search;
            this.connId = connId;
            this.bucket = bucket;
            this.candidate = candidate;
        }
    }

    public void placement(final Placement placement, final NatListener listener)
    {
        this.placement = placement;
        this.natListener = listener;
    }

    /** The candidate reply key pending connection {@code ref} waits for, or null if it is not pending. */
    public CtRequest pendingCandidate(final int ref)
    {
        final Pending pend = pending.get(ref);
        return pend == null ? null : pend.candidate;
    }

    /** The bucket asked for pending connection {@code ref}'s candidate, or -1. */
    public int pendingBucket(final int ref)
    {
        final Pending pend = pending.get(ref);
        return pend == null ? -1 : pend.bucket;
    }

    /** The id of pending connection {@code ref}, or 0. */
    public long pendingConnId(final int ref)
    {
        final Pending pend = pending.get(ref);
        return pend == null ? 0 : pend.connId;
    }

    /** Removes pending connection {@code ref} whose reservation never got an answer. */
    public boolean abandonPending(final int ref, final long connId)
    {
        final Pending pend = pending.get(ref);
        if (pend == null || pend.connId != connId || !isLiveConnection(ref, connId))
        {
            return false;
        }
        removeEntry(ref, EngineCounter.NAT_RESERVATION_TIMEOUT);
        return true;
    }

    /**
     * The answer of the bucket asked to reserve pending connection {@code ref}'s candidate. On refusal the search
     * goes on (local candidates are checked at once), so the connection may complete here too.
     */
    public int reservationResult(final int ref, final long connId, final boolean granted, final long nowMs)
    {
        final Pending pend = pending.get(ref);
        if (pend == null || pend.connId != connId || !isLiveConnection(ref, connId))
        {
            return RESERVATION_STALE;
        }
        if (granted)
        {
            counters.increment(EngineCounter.NAT_RESERVATIONS);
            recycle(pending.remove(ref));
            setReplyKey(ref, pend.candidate, pend.bucket);
            clearPending(ref);
            return RESERVATION_COMPLETED;
        }
        counters.increment(EngineCounter.NAT_RESERVATIONS_TAKEN);
        final int result = continueSearch(ref, pend.search, nowMs);
        if (result == SEARCH_FOUND)
        {
            recycle(pending.remove(ref));
            clearPending(ref);
            return RESERVATION_COMPLETED;
        }
        if (result == SEARCH_EXHAUSTED)
        {
            return RESERVATION_EXHAUSTED;
        }
        pend.candidate.copyFrom(candidate);
        pend.bucket = placement.bucketOf(candidate.hash());
        return RESERVATION_NEXT;
    }

    void clearPending(final int ref)
    {
        final ConnStore s = store(ref);
        s.data[Refs.slot(ref) * s.stride + META] &= ~Meta.PENDING;
    }

    /**
     * Completes the verdict of the packet that created translated connection {@code ref}, once it is complete:
     * adds the translation's ct_state bit and the rewrite.
     */
    public void completeVerdict(final int ref, final Verdict out)
    {
        final long meta = meta(ref);
        out.orState(natState(meta, false));
        writeNat(ref, false, false, out);
    }

    /**
     * Reserves {@code key} (the reply key of bucket {@code ownerBucket}'s connection {@code ownerRef}, id
     * {@code connId}) as an alias, unless a connection or alias of this table already has that key in either
     * direction. Returns whether it was reserved.
     */
    public boolean reserveAlias(final CtRequest key, final int ownerBucket, final int ownerRef, final long connId,
        final long nowMs)
    {
        if (lookup(key, nowMs, false) != 0)
        {
            return false;
        }
        final boolean isV6 = key.isIpv6();
        final ConnStore s = isV6 ? v6 : v4;
        final int slot = s.allocate();
        final int ref = s.familyBit | slot;
        final long[] d = s.data;
        final int b = slot * s.stride;
        d[b + META] = Meta.of(key.nwProto(), key.zone(), 0) | Meta.ALIAS;
        d[b + ORIG_L4] = ((long)key.srcL4() << 32) | (key.dstL4() & LOW32);
        writeAddresses(d, b + ORIG_ADDR, isV6, key);
        d[b + MARK] = (long)key.hash() << 32;
        d[b + ID] = connId;
        d[b + EXPIRATION] = Long.MAX_VALUE;
        d[b + TCP0] = ((long)ownerBucket << 32) | (ownerRef & LOW32);
        index.insert(key.hash(), ref | Refs.MATCH_ORIG);
        aliases++;
        return true;
    }

    /**
     * Removes the alias of {@code key} if it belongs to bucket {@code ownerBucket}'s connection {@code connId}.
     * Returns whether one was removed.
     */
    public boolean releaseAlias(final CtRequest key, final int ownerBucket, final long connId, final long nowMs)
    {
        final int ref = lookup(key, nowMs, false);
        if (ref == 0)
        {
            return false;
        }
        final ConnStore s = store(ref);
        final int b = Refs.slot(ref) * s.stride;
        if ((s.data[b + META] & Meta.ALIAS) == 0 || s.data[b + ID] != connId
            || (int)(s.data[b + TCP0] >>> 32) != ownerBucket)
        {
            return false;
        }
        index.remove(key.hash(), ref);
        s.free(Refs.slot(ref));
        aliases--;
        return true;
    }

    /** The owner bucket of alias {@code ref}. */
    public int aliasOwnerBucket(final int ref)
    {
        final ConnStore s = store(ref);
        return (int)(s.data[Refs.slot(ref) * s.stride + TCP0] >>> 32);
    }

    /** The owner's entry reference of alias {@code ref}. */
    public int aliasOwnerRef(final int ref)
    {
        final ConnStore s = store(ref);
        return (int)s.data[Refs.slot(ref) * s.stride + TCP0];
    }

    /** The owner's connection id of alias {@code ref}. */
    public long aliasConnId(final int ref)
    {
        final ConnStore s = store(ref);
        return s.data[Refs.slot(ref) * s.stride + ID];
    }

    /** Whether the last lookup matched in the reply direction (for forwarding a packet that matched an alias). */
    public boolean lastReply()
    {
        return lastReply;
    }

    /** Aliases held for other buckets' connections. */
    public int aliasCount()
    {
        return aliases;
    }

    /** Translated connections waiting for a reservation. */
    public int pendingCount()
    {
        return pending.size();
    }

    /**
     * Calls {@code visitor} with (owner bucket, owner ref, owner connection id) and the key of every alias; and,
     * through {@code owned}, with (alias bucket, connection id) and the reply key of every connection whose reply key
     * is held as an alias elsewhere. For consistency checks; keys are valid during the call only.
     */
    public void forEachNatLink(final AliasVisitor aliases, final AliasVisitor owned)
    {
        final CtRequest key = new CtRequest();
        for (final ConnStore s : new ConnStore[] { v4, v6 })
        {
            for (int slot = 1; slot < s.highWater(); slot++)
            {
                if (!s.isLive(slot))
                {
                    continue;
                }
                final int ref = s.familyBit | slot;
                final long meta = s.data[slot * s.stride + META];
                if ((meta & Meta.ALIAS) != 0)
                {
                    keyOf(ref, key);
                    aliases.visit(aliasOwnerBucket(ref), aliasOwnerRef(ref), aliasConnId(ref), key);
                }
                else if ((meta & Meta.REMOTE_REPLY) != 0)
                {
                    replyKey(ref, key);
                    owned.visit(s.replyBucket[slot], ref, s.data[slot * s.stride + ID], key);
                }
            }
        }
    }

    /** A search object for a connection that may wait for remote candidates (reused once it is done). */
    UniqueTupleSearch newSearch()
    {
        final UniqueTupleSearch reused = freeSearches.poll();
        return reused != null ? reused : new UniqueTupleSearch(NAT_HASH_BASIS, idBase + nextId * 0x9E37_79B9L);
    }

    void recycle(final Pending pend)
    {
        if (pend != null && freeSearches.size() < 1024)
        {
            freeSearches.add(pend.search);
        }
    }
}
