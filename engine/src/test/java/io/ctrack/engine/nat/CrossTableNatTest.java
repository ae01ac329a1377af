package io.ctrack.engine.nat;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.key.ConnKey;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.key.SymmetricHash;
import io.ctrack.engine.packet.Protocols;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.engine.table.ConnTable;
import io.ctrack.engine.table.ConnTableConfig;
import io.ctrack.engine.table.LocalLimits;
import io.ctrack.engine.table.Placement;
import io.ctrack.engine.timeout.TimeoutPolicies;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static io.ctrack.engine.nat.NatConntrackTest.v4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The engine's side of the two-bucket protocol, driven synchronously: four tables stand for four buckets, a queue
 * for their mailboxes. Checks the reservation, forwarding and release steps one by one, then random sequences of
 * inserts, replies, expiries and flushes, after which every alias must have its owner and every owner its alias,
 * and no two connections may share a reply tuple.
 */
class CrossTableNatTest
{
    private static final int BUCKETS = 4;
    private final ConnTable[] tables = new ConnTable[BUCKETS];
    private final ArrayDeque<Runnable> mailbox = new ArrayDeque<>();
    private final Verdict verdict = new Verdict().wrap(new UnsafeBuffer(new byte[Verdict.NAT_LENGTH]), 0);
    private final LocalLimits limits = new LocalLimits();
    private long now = 1_000;

    CrossTableNatTest()
    {
        for (int b = 0; b < BUCKETS; b++)
        {
            final int self = b;
            tables[b] = new ConnTable(ConnTableConfig.of(b, 64), new TimeoutPolicies(), limits, new EngineCounters());
            tables[b].placement(new Placement()
            {
                @Override
                public boolean isLocal(final int hash)
                {
                    return bucketOf(hash) == self;
                }

                @Override
                public int bucketOf(final int hash)
                {
                    return hash >>> 30;
                }
            }, (ref, connId, aliasBucket, replyKey, pending) ->
            {
                final CtRequest key = new CtRequest().copyFrom(replyKey);
                if (!pending)
                {
                    mailbox.add(() -> tables[aliasBucket].releaseAlias(key, self, connId, now));
                }
                else
                {
                    abandoned.add(connId);
                }
            });
        }
    }

    /** Connections whose reservation was abandoned (removed while pending): a late grant must be released. */
    private final Set<Long> abandoned = new HashSet<>();

    private static int bucketOf(final int hash)
    {
        return hash >>> 30;
    }

    private static CtRequest udp(final long src, final int sport, final long dst, final int dport)
    {
        final CtRequest r = new CtRequest().nwProto(Protocols.IPPROTO_UDP).src(0, src).dst(0, dst)
            .srcL4(sport << 16).dstL4(dport << 16);
        return r.hash(SymmetricHash.of(r));
    }

    /** Sends one packet the way a worker and the buckets would; returns its final verdict's ct_state. */
    private int send(final CtRequest r, final ExecParams p)
    {
        final int bucket = bucketOf(r.hash());
        final ConnTable t = tables[bucket];
        t.execute(r, p, now, verdict);
        switch (t.lastOutcome())
        {
            case ConnTable.OUTCOME_ANSWERED:
                return verdict.ctState();
            case ConnTable.OUTCOME_FORWARD:
            {
                final int alias = t.lastRef();
                final ConnTable owner = tables[t.aliasOwnerBucket(alias)];
                owner.executeForwarded(t.aliasOwnerRef(alias), t.aliasConnId(alias), t.lastReply(), r, p, now, verdict);
                if (owner.lastOutcome() == ConnTable.OUTCOME_STALE)
                {
                    t.executeIgnoringAliases(r, p, now, verdict);
                }
                return verdict.ctState();
            }
            case ConnTable.OUTCOME_PENDING:
            {
                final int ref = t.lastRef();
                final long id = t.pendingConnId(ref);
                final int created = verdict.ctState();
                // Ask the candidates' buckets one by one, as the owner's actor does.
                while (true)
                {
                    final CtRequest candidate = t.pendingCandidate(ref);
                    final boolean granted = tables[t.pendingBucket(ref)].reserveAlias(candidate, bucket, ref, id, now);
                    final int result = t.reservationResult(ref, id, granted, now);
                    if (result == ConnTable.RESERVATION_COMPLETED)
                    {
                        t.completeVerdict(ref, verdict);
                        return verdict.ctState();
                    }
                    if (result == ConnTable.RESERVATION_EXHAUSTED)
                    {
                        return created;
                    }
                    if (result == ConnTable.RESERVATION_STALE)
                    {
                        throw new AssertionError("nothing removes a connection during a synchronous send");
                    }
                }
            }
            default:
                throw new AssertionError("outcome " + t.lastOutcome());
        }
    }

    private void deliver()
    {
        while (!mailbox.isEmpty())
        {
            mailbox.poll().run();
        }
    }

    @Test
    void shouldReserveRemotelyForwardRepliesAndReleaseOnRemoval()
    {
        final NatSpec spec = NatConntrackTest.snat("10.9.9.9", "10.9.9.9", 0, 0);
        // Find a client whose reply tuple lands in another bucket than its original tuple.
        int client = 1;
        CtRequest out;
        while (true)
        {
            out = udp(v4("10.1.0.0") + client, 5000, v4("10.2.0.1"), 53);
            final CtRequest reply = udp(v4("10.2.0.1"), 53, v4("10.9.9.9"), 5000);
            if (bucketOf(out.hash()) != bucketOf(reply.hash()))
            {
                break;
            }
            client++;
        }
        final int owner = bucketOf(out.hash());
        assertEquals("new|trk|snat", CtState.format(send(out, ExecParams.commit(0).nat(spec))));
        final CtRequest reply = udp(v4("10.2.0.1"), 53, v4("10.9.9.9"), 5000);
        final int aliasBucket = bucketOf(reply.hash());
        assertEquals(1, tables[aliasBucket].aliasCount());
        assertEquals(1, tables[owner].size());
        assertEquals(0, tables[aliasBucket].size(), "an alias is not a connection");

        assertEquals("est|rpl|trk|dnat", CtState.format(send(reply, new ExecParams().nat(NatSpec.PLAIN))));
        assertEquals(v4("10.1.0.0") + client, verdict.natAddrLo(), "the reply is untranslated to the client");

        tables[owner].flushAll(100);
        assertEquals(1, tables[aliasBucket].aliasCount(), "the alias goes after its owner, by message");
        deliver();
        assertEquals(0, tables[aliasBucket].aliasCount());
        // The tuple is free again: the reply tuple's packet now starts a connection of its own, in its own bucket.
        assertEquals("new|trk", CtState.format(send(reply, ExecParams.commit(0))));
        assertEquals(1, tables[aliasBucket].size());
    }

    @Test
    void shouldKeepAliasesAndOwnersInStepUnderRandomOperations()
    {
        final Random random = new Random(20261122);
        final NatSpec spec = NatConntrackTest.snat("10.9.9.9", "10.9.9.9", 2000, 2063);
        for (int step = 0; step < 4000; step++)
        {
            final int op = random.nextInt(10);
            if (op < 6)
            {
                final CtRequest out = udp(v4("10.1.0.0") + random.nextInt(200), 1024 + random.nextInt(4), v4("10.2.0.1"), 53);
                send(out, ExecParams.commit(0).nat(spec));
            }
            else if (op < 8)
            {
                final int port = 2000 + random.nextInt(64);
                send(udp(v4("10.2.0.1"), 53, v4("10.9.9.9"), port), new ExecParams().nat(NatSpec.PLAIN));
            }
            else if (op == 8)
            {
                tables[random.nextInt(BUCKETS)].flushAll(1 + random.nextInt(10));
            }
            else
            {
                now += random.nextInt(40_000);
                for (final ConnTable t : tables)
                {
                    t.sweep(now, 1 + random.nextInt(50));
                }
            }
            if (random.nextInt(3) == 0)
            {
                deliver();
            }
        }
        deliver();
        assertConsistent();
    }

    private void assertConsistent()
    {
        final Map<ConnKey, String> aliases = new HashMap<>();
        final Map<ConnKey, String> owned = new HashMap<>();
        for (int b = 0; b < BUCKETS; b++)
        {
            final int bucket = b;
            tables[b].forEachNatLink(
                (ownerBucket, ownerRef, connId, key) ->
                {
                    assertEquals(bucket, bucketOf(key.hash()), "an alias lives where its key hashes");
                    assertEquals(null, aliases.put(ConnKey.of(key), ownerBucket + "/" + connId), "duplicate alias");
                },
                (aliasBucket, ref, connId, key) ->
                    assertEquals(null, owned.put(ConnKey.of(key), bucket + "/" + connId), "two owners of one reply tuple"));
        }
        assertEquals(owned, aliases, "every alias has its owner and every owner its alias");
        assertTrue(owned.size() > 0, "the sequence created remote reply tuples");
    }

    @Test
    void shouldAnswerAStaleForwardInTheAliasBucket()
    {
        final NatSpec spec = NatConntrackTest.snat("10.9.9.9", "10.9.9.9", 0, 0);
        int client = 1;
        CtRequest out;
        CtRequest reply;
        while (true)
        {
            out = udp(v4("10.1.0.0") + client, 6000, v4("10.2.0.1"), 53);
            reply = udp(v4("10.2.0.1"), 53, v4("10.9.9.9"), 6000);
            if (bucketOf(out.hash()) != bucketOf(reply.hash()))
            {
                break;
            }
            client++;
        }
        send(out, ExecParams.commit(0).nat(spec));
        tables[bucketOf(out.hash())].flushAll(10);
        // The release is still in the mail: the alias forwards, the owner finds nothing, the alias bucket tracks it.
        final int state = send(reply, ExecParams.commit(0));
        assertEquals("new|trk", CtState.format(state));
        assertNotEquals(0, verdict.connId());
        deliver();
        assertEquals(0, tables[bucketOf(reply.hash())].aliasCount());
        assertEquals(1, tables[bucketOf(reply.hash())].size(), "the new connection survives the late release");
    }
}
