package io.ctrack.engine.table;

import io.ctrack.engine.ct.DumpFormat;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.key.SymmetricHash;
import io.ctrack.engine.status.EngineCounter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static io.ctrack.engine.table.TableFixture.many;
import static io.ctrack.engine.table.TableFixture.reverse;
import static io.ctrack.engine.table.TableFixture.udp;
import static io.ctrack.engine.table.TableFixture.udp6;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The connection table: lookup in both directions, growth, expiry on lookup, flushes in slices, mark and label,
 * timeout policies. Limits are in {@link ConnTableLimitsTest}, sweeping in {@link ConnTableSweepTest}.
 */
class ConnTableTest
{
    private static final long T0 = 1_000_000L;
    private static final int A = 0x0A00_0001;
    private static final int B = 0x0A00_0002;

    private final TableFixture f = new TableFixture();

    @Test
    void shouldInsertFindUpdateAndDeleteAConnection()
    {
        final CtRequest out = udp(0, A, 1000, B, 53);
        final CtRequest back = reverse(out);
        assertEquals("new|trk", f.execute(out, T0));
        final long id = f.verdict.connId();
        assertTrue(id != 0);
        assertEquals(1, f.table.size());
        assertEquals(id, f.table.find(out, T0).id());
        assertEquals(id, f.table.find(back, T0).id());

        assertEquals("est|rpl|trk", f.execute(back, T0 + 1));
        assertEquals(id, f.verdict.connId());
        assertEquals(1, f.table.size());

        assertTrue(f.table.flushKey(back, T0 + 2));
        assertEquals(0, f.table.size());
        assertNull(f.table.find(out, T0 + 2));
        assertFalse(f.table.flushKey(out, T0 + 2));
        assertEquals(1, f.counter(EngineCounter.CONN_FLUSHED));
        assertEquals(0, f.limits.count());
        assertEquals(0, f.table.zoneSize(0));
    }

    @Test
    void shouldNotCreateAConnectionWithoutCommit()
    {
        final ExecParams noCommit = ExecParams.commit(0).commit(false);
        assertEquals("new|trk", f.execute(udp(0, A, 1000, B, 53), noCommit, T0));
        assertEquals(0, f.verdict.connId());
        assertEquals(0, f.table.size());
        assertEquals(0, f.counter(EngineCounter.CONN_CREATED));
    }

    @Test
    void shouldUpdateAnExistingConnectionWithoutCommit()
    {
        final CtRequest out = udp(0, A, 1000, B, 53);
        f.execute(out, T0);
        assertEquals("est|rpl|trk", f.execute(reverse(out), ExecParams.commit(0).commit(false), T0));
    }

    @Test
    void shouldPutTheTableIdInTheHighBitsOfConnectionIds()
    {
        final TableFixture t = new TableFixture(ConnTableConfig.of(3, 16));
        t.execute(udp(0, A, 1, B, 2), T0);
        t.execute(udp(0, A, 3, B, 4), T0);
        assertEquals(3, t.verdict.connId() >>> 40);
        assertEquals(2, t.verdict.connId() & 0xFF_FFFF_FFFFL);
    }

    @Test
    void shouldGrowPastItsInitialCapacityAndFindEveryConnection()
    {
        final TableFixture t = new TableFixture(ConnTableConfig.of(0, 16));
        final int n = 50_000;
        final Set<Long> ids = new HashSet<>();
        for (int i = 0; i < n; i++)
        {
            assertEquals("new|trk", t.execute(many(0, i), T0));
            ids.add(t.verdict.connId());
        }
        for (int i = 0; i < 5_000; i++)
        {
            assertEquals("new|trk", t.execute(udp6(0, i, 7000, 0xFFFF, 53), T0));
            ids.add(t.verdict.connId());
        }
        assertEquals(n + 5_000, t.table.size());
        assertEquals(n + 5_000, ids.size());
        for (int i = 0; i < n; i++)
        {
            final CtRequest r = many(0, i);
            assertNotNull(t.table.find(r, T0), "connection " + i);
            assertEquals("est|rpl|trk", t.execute(reverse(r), T0 + 1), "connection " + i);
        }
        for (int i = 0; i < 5_000; i++)
        {
            assertEquals("est|rpl|trk", t.execute(reverse(udp6(0, i, 7000, 0xFFFF, 53)), T0 + 1));
        }
        assertTrue(t.table.indexLoad() <= 0.7, "index load " + t.table.indexLoad());
        assertNull(t.table.find(many(0, n), T0 + 1));
    }

    @Test
    void shouldKeepTheIndexConsistentThroughRandomInsertsAndDeletes()
    {
        // A model map against the table: backward-shift deletion must never lose or resurrect a key.
        final TableFixture t = new TableFixture(ConnTableConfig.of(0, 64));
        final Random random = new Random(1234);
        final Map<Integer, Long> idByKey = new HashMap<>();
        for (int op = 0; op < 100_000; op++)
        {
            final int k = random.nextInt(8_000);
            final CtRequest r = random.nextBoolean() ? many(0, k) : reverse(many(0, k));
            if (random.nextInt(3) == 0)
            {
                assertEquals(idByKey.remove(k) != null, t.table.flushKey(r, T0), "flush " + k + " at op " + op);
            }
            else
            {
                t.execute(r, T0);
                final Long before = idByKey.putIfAbsent(k, t.verdict.connId());
                if (before != null)
                {
                    assertEquals(before.longValue(), t.verdict.connId(), "key " + k + " at op " + op);
                }
            }
            if (op % 20_000 == 0)
            {
                for (int key = 0; key < 8_000; key++)
                {
                    final ConnEntry e = t.table.find(many(0, key), T0);
                    final Long id = idByKey.get(key);
                    assertEquals(id, e == null ? null : e.id(), "key " + key + " at op " + op);
                }
            }
        }
        assertEquals(idByKey.size(), t.table.size());
    }

    @Test
    void shouldTreatAnExpiredConnectionAsAbsentAndRemoveItOnLookup()
    {
        final CtRequest out = udp(0, A, 1000, B, 53);
        f.execute(out, T0);
        assertNotNull(f.table.find(out, T0 + 59_999));
        assertNull(f.table.find(reverse(out), T0 + 60_000));
        assertEquals(0, f.table.size());
        assertEquals(0, f.table.zoneSize(0));
        assertEquals(0, f.limits.count());
        assertEquals(1, f.counter(EngineCounter.CONN_EXPIRED));
        assertEquals("new|trk", f.execute(reverse(out), T0 + 60_000));
    }

    @Test
    void shouldHideExpiredConnectionsFromIterationWithoutRemovingThem()
    {
        f.execute(udp(0, A, 1, B, 2), T0);
        f.execute(udp(0, A, 3, B, 4), T0 + 10_000);
        final List<String> seen = new ArrayList<>();
        f.table.forEach(-1, T0 + 60_000, e -> seen.add(DumpFormat.format(e)));
        assertEquals(List.of("udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=3,dport=4),"
            + "reply=(src=10.0.0.2,dst=10.0.0.1,sport=4,dport=3)"), seen);
        assertEquals(2, f.table.size());
    }

    @Test
    void shouldIterateOneZoneOrAllZonesInOrder()
    {
        f.execute(udp(9, A, 1, B, 2), T0);
        f.execute(udp(2, A, 1, B, 2), T0);
        f.execute(udp(5, A, 1, B, 2), T0);
        f.execute(udp(5, A, 3, B, 4), T0);
        final List<Integer> zones = new ArrayList<>();
        f.table.forEach(-1, T0, e -> zones.add(e.zone()));
        assertEquals(List.of(2, 5, 5, 9), zones);
        zones.clear();
        f.table.forEach(5, T0, e -> zones.add(e.zone()));
        assertEquals(List.of(5, 5), zones);
        assertArrayEquals(new int[] { 2, 5, 9 }, f.table.zones());
    }

    @Test
    void shouldFlushAZoneInSlicesWithoutTouchingOtherZones()
    {
        for (int i = 0; i < 1_000; i++)
        {
            f.execute(many(1, i), T0);
        }
        for (int i = 0; i < 300; i++)
        {
            f.execute(many(2, i), T0);
        }
        int slices = 0;
        int removed;
        while ((removed = f.table.flushZone(1, 128)) > 0)
        {
            assertTrue(removed <= 128, "slice of " + removed);
            slices++;
            assertEquals(Math.max(0, 1_000 - 128 * slices), f.table.zoneSize(1));
            assertEquals(300, f.table.zoneSize(2));
        }
        assertEquals(8, slices);
        assertEquals(0, f.table.zoneSize(1));
        assertEquals(300, f.table.size());
        assertArrayEquals(new int[] { 2 }, f.table.zones());
        assertNull(f.table.find(many(1, 5), T0));
        assertNotNull(f.table.find(many(2, 5), T0));
        assertEquals(1_000, f.counter(EngineCounter.CONN_FLUSHED));
        assertEquals(0, f.limits.zoneCount(1));
        assertEquals(300, f.limits.zoneCount(2));
    }

    @Test
    void shouldFlushEverythingInSlices()
    {
        for (int zone = 0; zone < 5; zone++)
        {
            for (int i = 0; i < 100 * (zone + 1); i++)
            {
                f.execute(many(zone, i), T0);
            }
        }
        int total = 0;
        int removed;
        while ((removed = f.table.flushAll(64)) > 0)
        {
            assertTrue(removed <= 64);
            total += removed;
        }
        assertEquals(1_500, total);
        assertEquals(0, f.table.size());
        assertEquals(0, f.table.zones().length);
        assertEquals(0, f.limits.count());
        assertEquals("new|trk", f.execute(many(3, 7), T0));
    }

    @Test
    void shouldFlushAConnectionByEitherDirectionsKeyOnly()
    {
        final CtRequest one = udp(0, A, 1, B, 2);
        final CtRequest two = udp(0, A, 3, B, 4);
        f.execute(one, T0);
        f.execute(two, T0);
        assertTrue(f.table.flushKey(reverse(two), T0));
        assertNull(f.table.find(two, T0));
        assertNotNull(f.table.find(one, T0));
        assertFalse(f.table.flushKey(udp(7, A, 1, B, 2), T0));
        assertTrue(f.table.flushKey(one, T0));
        assertEquals(0, f.table.size());
    }

    // ---- mark and label --------------------------------------------------------------------------------------

    @Test
    void shouldSetTheMarkOnCommitUnderItsMask()
    {
        final CtRequest out = udp(0, A, 1000, B, 53);
        f.execute(out, ExecParams.commit(0).mark(0x12, 0xFF), T0);
        assertEquals(0x12, f.verdict.mark());
        f.execute(out, ExecParams.commit(0).mark(0x3400, 0xFF00), T0);
        assertEquals(0x3412, f.verdict.mark());
        f.execute(reverse(out), ExecParams.commit(0), T0);
        assertEquals(0x3412, f.verdict.mark());
        assertEquals(0x3412, f.table.find(out, T0).mark());
        assertEquals("udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1000,dport=53),"
            + "reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport=1000),mark=13330", DumpFormat.format(f.table.find(out, T0)));
        f.execute(out, ExecParams.commit(0).mark(0xFFFF_FFFF, 0xFFFF_FFFF), T0);
        assertTrue(DumpFormat.format(f.table.find(out, T0)).endsWith(",mark=4294967295"));
    }

    @Test
    void shouldSetTheLabelOnCommitUnderItsMask()
    {
        final CtRequest out = udp(0, A, 1000, B, 53);
        f.execute(out, ExecParams.commit(0).label(0xAB, 0, 0xFF, 0), T0);
        assertEquals(0xAB, f.verdict.labelLo());
        assertEquals(0, f.verdict.labelHi());
        assertTrue(DumpFormat.format(f.table.find(out, T0)).endsWith(",labels=0xab"));

        f.execute(out, ExecParams.commit(0).label(0x100, 0x10, 0xF00, -1L), T0);
        assertEquals(0x1AB, f.verdict.labelLo());
        assertEquals(0x10, f.verdict.labelHi());
        f.execute(reverse(out), ExecParams.commit(0), T0);
        assertEquals(0x1AB, f.verdict.labelLo());
        assertEquals(0x10, f.verdict.labelHi());
        assertTrue(DumpFormat.format(f.table.find(out, T0)).endsWith(",labels=0x1000000000000001ab"));
    }

    @Test
    void shouldKeepLabelsThroughGrowthAndClearThemWhenASlotIsReused()
    {
        final TableFixture t = new TableFixture(ConnTableConfig.of(0, 4));
        final CtRequest labelled = udp(0, A, 1000, B, 53);
        t.execute(labelled, ExecParams.commit(0).label(0x77, 0x88, -1L, -1L), T0);
        for (int i = 0; i < 1_000; i++)
        {
            t.execute(many(0, i), T0);
        }
        assertEquals(0x77, t.table.find(labelled, T0).labelLo());
        assertEquals(0x88, t.table.find(labelled, T0).labelHi());

        assertTrue(t.table.flushKey(labelled, T0));
        t.execute(udp(0, A, 2000, B, 53), T0);
        assertEquals(0, t.verdict.labelLo());
        assertEquals(0, t.verdict.labelHi());
        assertEquals(0, t.table.find(udp(0, A, 2000, B, 53), T0).labelLo());
    }

    @Test
    void shouldNotSetAMarkWhenTheCommitIsRefused()
    {
        f.limits.maxConns(0);
        assertEquals("new|trk", f.execute(udp(0, A, 1, B, 2), ExecParams.commit(0).mark(5, -1), T0));
        assertEquals(0, f.verdict.mark());
        assertEquals(0, f.verdict.connId());
    }

    // ---- timeout policies ------------------------------------------------------------------------------------

    @Test
    void shouldGiveEachZoneItsTimeoutPolicy()
    {
        f.udpPolicy(7, 5, 9, -1);
        f.policies.setZonePolicy(3, 7);
        final CtRequest inZone3 = udp(3, A, 1, B, 2);
        final CtRequest inZone0 = udp(0, A, 1, B, 2);
        f.execute(inZone3, T0);
        f.execute(inZone0, T0);
        assertEquals(7, f.table.find(inZone3, T0).policyId());
        assertEquals(T0 + 5_000, f.table.find(inZone3, T0).expirationMs());
        assertEquals(T0 + 60_000, f.table.find(inZone0, T0).expirationMs());
        f.execute(inZone3, T0 + 1);
        assertEquals(T0 + 1 + 9_000, f.table.find(inZone3, T0 + 1).expirationMs());
        f.execute(reverse(inZone3), T0 + 2);
        assertEquals(T0 + 2 + 30_000, f.table.find(inZone3, T0 + 2).expirationMs());
    }

    @Test
    void shouldApplyAChangedPolicyAtTheNextPacket()
    {
        f.udpPolicy(7, 5, 9, -1);
        f.policies.setZonePolicy(3, 7);
        final CtRequest r = udp(3, A, 1, B, 2);
        f.execute(r, T0);
        f.udpPolicy(7, 5, 4, -1);
        assertEquals(T0 + 5_000, f.table.find(r, T0).expirationMs());
        f.execute(r, T0 + 100);
        assertEquals(T0 + 100 + 4_000, f.table.find(r, T0 + 100).expirationMs());

        // A deleted policy falls back to the defaults.
        f.policies.deletePolicy(7);
        f.execute(r, T0 + 200);
        assertEquals(T0 + 200 + 60_000, f.table.find(r, T0 + 200).expirationMs());
    }

    @Test
    void shouldKeepAConnectionsPolicyWhenItsZoneIsRemapped()
    {
        f.udpPolicy(7, 5, 9, -1);
        f.udpPolicy(8, 1, 2, 3);
        f.policies.setZonePolicy(3, 7);
        final CtRequest r = udp(3, A, 1, B, 2);
        f.execute(r, T0);
        f.policies.setZonePolicy(3, 8);
        f.execute(r, T0 + 100);
        assertEquals(T0 + 100 + 9_000, f.table.find(r, T0 + 100).expirationMs());
        f.execute(udp(3, A, 5, B, 6), T0 + 100);
        assertEquals(8, f.table.find(udp(3, A, 5, B, 6), T0 + 100).policyId());
    }

    @Test
    void shouldChangeTheDefaultPolicyForEveryZoneWithoutOne()
    {
        f.udpPolicy(0, 12, -1, -1);
        final CtRequest r = udp(44, A, 1, B, 2);
        f.execute(r, T0);
        assertEquals(T0 + 12_000, f.table.find(r, T0).expirationMs());
    }

    // ---- memory ----------------------------------------------------------------------------------------------

    @Test
    void shouldHoldAMillionIpv4ConnectionsInAtMost128BytesEach()
    {
        final TableFixture t = new TableFixture(ConnTableConfig.of(0, 1024));
        final int n = 1_000_000;
        t.table.reserve(n);
        final CtRequest r = new CtRequest();
        for (int i = 0; i < n; i++)
        {
            r.zone(0).flags(0).nwProto(17).src(0, 0x0A00_0000L | (i >>> 12)).dst(0, 0xC0A8_0001L)
                .srcL4((1024 + (i & 0xFFF)) << 16).dstL4(53 << 16);
            r.hash(SymmetricHash.of(r));
            t.table.execute(r, t.commit, T0, t.verdict);
        }
        assertEquals(n, t.table.size());
        final double bytesPerConnection = (double)t.table.memoryBytes() / t.table.size();
        assertTrue(bytesPerConnection <= 128, bytesPerConnection + " bytes per connection");
    }
}
