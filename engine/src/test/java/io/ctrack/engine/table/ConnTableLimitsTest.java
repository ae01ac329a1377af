package io.ctrack.engine.table;

import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.status.EngineCounter;
import org.junit.jupiter.api.Test;

import static io.ctrack.engine.table.TableFixture.many;
import static io.ctrack.engine.table.TableFixture.reverse;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Commit admission: per-zone limits, the default zone limit and the connection limit, as Open vSwitch's
 * {@code conn_not_found} applies them (zone limit first, then {@code n_conn_limit}; a refused commit still
 * answers {@code new}, without a connection). Counts are of live connections: every removal frees room.
 */
class ConnTableLimitsTest
{
    private static final long T0 = 3_000_000L;

    private final TableFixture f = new TableFixture();

    private void commitAll(final int zone, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            assertEquals("new|trk", f.execute(many(zone, i), T0));
            assertNotEquals(0, f.verdict.connId(), "commit " + i + " in zone " + zone);
        }
    }

    private void assertRefused(final CtRequest r, final EngineCounter counter, final long expectedCount)
    {
        final int before = f.table.size();
        assertEquals("new|trk", f.execute(r, T0));
        assertEquals(0, f.verdict.connId());
        assertEquals(before, f.table.size());
        assertEquals(expectedCount, f.counter(counter));
    }

    @Test
    void shouldRefuseCommitsBeyondAZoneLimit()
    {
        f.limits.setZoneLimit(5, 3);
        commitAll(5, 3);
        assertRefused(many(5, 3), EngineCounter.COMMIT_REFUSED_ZONE_LIMIT, 1);
        assertRefused(many(5, 4), EngineCounter.COMMIT_REFUSED_ZONE_LIMIT, 2);
        commitAll(6, 10);
        assertEquals(3, f.table.zoneSize(5));
        assertEquals(0, f.counter(EngineCounter.COMMIT_REFUSED_TABLE_FULL));
    }

    @Test
    void shouldStillTrackPacketsOfAdmittedConnectionsInAFullZone()
    {
        f.limits.setZoneLimit(5, 1);
        commitAll(5, 1);
        assertEquals("est|rpl|trk", f.execute(reverse(many(5, 0)), T0));
    }

    @Test
    void shouldAdmitAgainOnceAConnectionOfTheZoneIsGone()
    {
        f.limits.setZoneLimit(5, 2);
        commitAll(5, 2);
        assertRefused(many(5, 2), EngineCounter.COMMIT_REFUSED_ZONE_LIMIT, 1);
        f.table.flushKey(many(5, 0), T0);
        assertEquals("new|trk", f.execute(many(5, 2), T0));
        assertNotEquals(0, f.verdict.connId());
        // Expiry frees room too (found expired on lookup).
        f.table.find(many(5, 1), T0 + 60_000);
        assertEquals(1, f.limits.zoneCount(5));
    }

    @Test
    void shouldApplyTheDefaultZoneLimitToZonesWithoutALimitOfTheirOwn()
    {
        f.limits.defaultZoneLimit(2);
        f.limits.setZoneLimit(8, 4);
        commitAll(7, 2);
        assertRefused(many(7, 2), EngineCounter.COMMIT_REFUSED_ZONE_LIMIT, 1);
        commitAll(9, 2);
        assertRefused(many(9, 2), EngineCounter.COMMIT_REFUSED_ZONE_LIMIT, 2);
        commitAll(8, 4);
        assertRefused(many(8, 4), EngineCounter.COMMIT_REFUSED_ZONE_LIMIT, 3);
    }

    @Test
    void shouldFallBackToTheDefaultLimitWhenAZoneLimitIsDeleted()
    {
        f.limits.defaultZoneLimit(2);
        f.limits.setZoneLimit(8, 4);
        f.limits.deleteZoneLimit(8);
        commitAll(8, 2);
        assertRefused(many(8, 2), EngineCounter.COMMIT_REFUSED_ZONE_LIMIT, 1);
    }

    @Test
    void shouldTreatAZoneLimitOfZeroAsUnlimitedEvenWithADefault()
    {
        f.limits.defaultZoneLimit(2);
        f.limits.setZoneLimit(9, 0);
        commitAll(9, 5);
    }

    @Test
    void shouldTreatADefaultZoneLimitOfZeroAsUnlimited()
    {
        f.limits.defaultZoneLimit(0);
        commitAll(3, 500);
    }

    @Test
    void shouldRefuseCommitsBeyondTheConnectionLimit()
    {
        f.limits.maxConns(5);
        commitAll(1, 3);
        commitAll(2, 2);
        assertRefused(many(3, 0), EngineCounter.COMMIT_REFUSED_TABLE_FULL, 1);
        assertEquals(0, f.counter(EngineCounter.COMMIT_REFUSED_ZONE_LIMIT));
        f.table.flushZone(1, 1);
        assertEquals("new|trk", f.execute(many(3, 0), T0));
        assertNotEquals(0, f.verdict.connId());
    }

    @Test
    void shouldCheckTheZoneLimitBeforeTheConnectionLimit()
    {
        f.limits.maxConns(2);
        f.limits.setZoneLimit(4, 2);
        commitAll(4, 2);
        assertRefused(many(4, 2), EngineCounter.COMMIT_REFUSED_ZONE_LIMIT, 1);
        assertRefused(many(0, 0), EngineCounter.COMMIT_REFUSED_TABLE_FULL, 1);
    }

    @Test
    void shouldDefaultToThreeMillionConnectionsAsOpenVswitch()
    {
        assertEquals(3_000_000, new LocalLimits().maxConns());
        assertEquals(0, new LocalLimits().defaultZoneLimit());
    }

    @Test
    void shouldRejectOutOfRangeLimitsWithAMessage()
    {
        assertEquals("zone must be 0-65535, got 70000",
            assertThrows(IllegalArgumentException.class, () -> f.limits.setZoneLimit(70_000, 1)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> f.limits.setZoneLimit(1, -1));
        assertThrows(IllegalArgumentException.class, () -> f.limits.defaultZoneLimit(-1));
        assertThrows(IllegalArgumentException.class, () -> f.limits.maxConns(-1));
    }
}
