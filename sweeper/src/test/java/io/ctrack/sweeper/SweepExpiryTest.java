package io.ctrack.sweeper;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.timeout.TimeoutAttr;
import io.ctrack.shards.AdminActor;
import org.agrona.concurrent.UnsafeBuffer;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static io.ctrack.sweeper.SweptNode.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Expiry through a running node: connections tracked through a worker at explicit times, sweepers on a clock the
 * test moves. The bound under test: a connection is removed at most one wheel slot plus the sweep period after it
 * expires (here the period is the clock step between two sweeps), and never before.
 */
@ExtendWith(LogCapturingExtension.class)
class SweepExpiryTest
{
    /** Steps often in wall time, so that a test waits only for actor scheduling. */
    private static final SweepSettings FAST = new SweepSettings(2, 0, 1_000);
    private static final long STEP_MS = 100;

    private SweptNode swept;

    @AfterEach
    void close()
    {
        if (swept != null)
        {
            swept.close();
        }
    }

    /** Sweeps at {@code t} and checks every zone of {@code expirationByZone}: present before expiry, gone after its slot. */
    private void sweepAndCheck(final long t, final Map<Integer, Long> expirationByZone)
    {
        swept.sweepAt(t);
        for (final Map.Entry<Integer, Long> e : expirationByZone.entrySet())
        {
            final int zone = e.getKey();
            final long expiration = e.getValue();
            final int count = swept.node.limits().zoneCount(zone);
            if (t < expiration)
            {
                assertEquals(1, count, "zone " + zone + " removed at T0+" + (t - T0) + " ms, before its expiry at T0+"
                    + (expiration - T0));
            }
            else if (t >= swept.slotEnd(expiration))
            {
                assertEquals(0, count, "zone " + zone + " still there at T0+" + (t - T0) + " ms, expired at T0+"
                    + (expiration - T0) + " and its slot has passed");
            }
        }
    }

    /** Jumps to just before each distinct expiration, then steps through it by {@link #STEP_MS}. */
    private void walkThrough(final Map<Integer, Long> expirationByZone)
    {
        for (final long expiration : new TreeSet<>(expirationByZone.values()))
        {
            walkAround(expiration, expirationByZone);
        }
    }

    private void walkAround(final long expiration, final Map<Integer, Long> expirationByZone)
    {
        sweepAndCheck(expiration - 4 * STEP_MS, expirationByZone);
        for (long t = expiration - 3 * STEP_MS; t <= expiration + swept.slotMs() + 2 * STEP_MS; t += STEP_MS)
        {
            sweepAndCheck(t, expirationByZone);
        }
    }

    private void assertLateness(final int expectedSwept)
    {
        final long[] histogram = SweptNode.latenessHistogram();
        final long max = swept.maxLatenessMs(histogram);
        assertEquals(expectedSwept, Arrays.stream(histogram).sum(), "every removal by a sweep has a lateness");
        assertTrue(max <= swept.slotMs() + STEP_MS, "lateness " + max + " ms exceeds one slot (" + swept.slotMs()
            + " ms) plus the sweep period (" + STEP_MS + " ms)");
    }

    private static void assertTracked(final UnsafeBuffer verdicts, final int count, final String what)
    {
        for (int i = 0; i < count; i++)
        {
            final Verdict v = SweptNode.verdict(verdicts, i);
            assertTrue((v.ctState() & CtState.TRACKED) != 0 && (v.ctState() & CtState.INVALID) == 0 && v.connId() != 0,
                what + " packet " + i + " got " + CtState.format(v.ctState()));
        }
    }

    @Test
    @Timeout(60)
    void shouldRemoveEveryConnectionWithinOneSlotAndOneSweepOfItsExpiry()
    {
        swept = SweptNode.start(SweptNode.settings("sweep-bound", 4), FAST);
        final int flows = 200;
        final Map<Integer, Long> expirationByZone = new LinkedHashMap<>();
        for (int i = 0; i < flows; i++)
        {
            // Spread over ~7 s, so expirations fall at every position within many slots.
            final long at = T0 + i * 37L;
            final int zone = 1 + i;
            assertTracked(swept.track(TimeoutClass.UDP_FIRST.frames(i), ExecParams.commit(zone), at), 1, "flow " + i);
            expirationByZone.put(zone, at + TimeoutAttr.UDP_FIRST.defaultSeconds() * 1000L);
        }
        swept.sweepAt(T0 + 59_000);
        assertEquals(flows, swept.count());

        for (long t = T0 + 59_000 + STEP_MS; t <= T0 + 68_000; t += STEP_MS)
        {
            sweepAndCheck(t, expirationByZone);
        }

        assertEquals(0, swept.count());
        assertEquals(0, swept.node.limits().count());
        assertEquals(flows, swept.total(EngineCounter.CONN_EXPIRED));
        assertLateness(flows);
    }

    @Test
    @Timeout(60)
    void shouldNeverRemoveAConnectionRefreshedByTraffic()
    {
        swept = SweptNode.start(SweptNode.settings("sweep-refresh", 4), FAST);
        final int busyZone = 1;
        final int idleZone = 2;
        final long timeoutMs = TimeoutAttr.UDP_MULTIPLE.defaultSeconds() * 1000L;
        final List<byte[]> exchange = TimeoutClass.UDP_MULTIPLE.frames(1);
        final UnsafeBuffer first = swept.track(exchange, ExecParams.commit(busyZone), T0);
        assertTracked(first, 2, "busy flow");
        final long connId = SweptNode.verdict(first, 0).connId();
        assertTracked(swept.track(TimeoutClass.UDP_MULTIPLE.frames(2), ExecParams.commit(idleZone), T0), 2, "idle flow");

        final long stepMs = 1_000;
        final long refreshEveryMs = timeoutMs * 2 / 3;
        for (long t = T0 + stepMs; t <= T0 + 10 * timeoutMs; t += stepMs)
        {
            if ((t - T0) % refreshEveryMs == 0)
            {
                // One request, the original direction: the connection stays bidirectional (udp_multiple).
                final UnsafeBuffer v = swept.track(exchange.subList(0, 1), ExecParams.commit(busyZone), t);
                assertEquals(connId, SweptNode.verdict(v, 0).connId(), "the refreshed flow is the same connection");
                assertEquals(CtState.ESTABLISHED | CtState.TRACKED, SweptNode.verdict(v, 0).ctState(),
                    CtState.format(SweptNode.verdict(v, 0).ctState()));
            }
            swept.sweepAt(t);
            assertEquals(1, swept.node.limits().zoneCount(busyZone), "refreshed flow removed at T0+" + (t - T0));
            if (t >= swept.slotEnd(T0 + timeoutMs))
            {
                assertEquals(0, swept.node.limits().zoneCount(idleZone), "idle flow kept at T0+" + (t - T0));
            }
        }

        assertEquals(1, swept.count());
        assertEquals(1, swept.total(EngineCounter.CONN_EXPIRED));
        final long[] histogram = SweptNode.latenessHistogram();
        assertTrue(swept.maxLatenessMs(histogram) <= swept.slotMs() + stepMs);
    }

    @Test
    @Timeout(60)
    void shouldHonourEveryDefaultTimeout()
    {
        swept = SweptNode.start(SweptNode.settings("sweep-defaults", 4), FAST);
        final Map<Integer, Long> expirationByZone = new LinkedHashMap<>();
        for (final TimeoutClass kind : TimeoutClass.values())
        {
            final int zone = 1 + kind.ordinal();
            final List<byte[]> frames = kind.frames(zone);
            assertTracked(swept.track(frames, ExecParams.commit(zone), T0), frames.size(), kind.name());
            expirationByZone.put(zone, T0 + kind.attr().defaultSeconds() * 1000L);
        }
        assertEquals(TimeoutClass.values().length, swept.count());

        walkThrough(expirationByZone);

        assertEquals(0, swept.count());
        assertEquals(TimeoutClass.values().length, swept.total(EngineCounter.CONN_EXPIRED));
        assertLateness(TimeoutClass.values().length);
    }

    @Test
    @Timeout(60)
    void shouldHonourAZoneTimeoutPolicyForEveryTimeout()
    {
        swept = SweptNode.start(SweptNode.settings("sweep-policy", 4), FAST);
        final int policy = 7;
        // A distinct timeout per attribute, a second apart, so each class shows which attribute it used.
        final int[] seconds = new int[TimeoutAttr.count()];
        for (final TimeoutClass kind : TimeoutClass.values())
        {
            seconds[kind.attr().ordinal()] = 11 + kind.ordinal();
        }
        swept.admin(replyTo -> new AdminActor.SetTimeoutPolicy(policy, seconds, replyTo));
        final Map<Integer, Long> expirationByZone = new LinkedHashMap<>();
        for (final TimeoutClass kind : TimeoutClass.values())
        {
            final int zone = 100 + kind.ordinal();
            swept.admin(replyTo -> new AdminActor.SetZonePolicy(zone, policy, replyTo));
            final List<byte[]> frames = kind.frames(zone);
            assertTracked(swept.track(frames, ExecParams.commit(zone), T0), frames.size(), kind.name());
            expirationByZone.put(zone, T0 + seconds[kind.attr().ordinal()] * 1000L);
        }
        // The same conversation in a zone without a policy keeps the default.
        final int plainZone = 200;
        assertTracked(swept.track(TimeoutClass.UDP_FIRST.frames(plainZone), ExecParams.commit(plainZone), T0), 1,
            "plain zone");
        expirationByZone.put(plainZone, T0 + TimeoutAttr.UDP_FIRST.defaultSeconds() * 1000L);

        walkThrough(expirationByZone);

        assertEquals(0, swept.count());
        assertLateness(expirationByZone.size());
    }

    @Test
    @Timeout(60)
    void shouldHonourAChangedDefaultPolicyAndPartialPolicies()
    {
        swept = SweptNode.start(SweptNode.settings("sweep-default-policy", 2), FAST);
        // Policy 0 is what zones without a mapping use; attributes left at -1 keep Open vSwitch's defaults.
        final int[] defaults = new int[TimeoutAttr.count()];
        Arrays.fill(defaults, -1);
        defaults[TimeoutAttr.UDP_FIRST.ordinal()] = 5;
        swept.admin(replyTo -> new AdminActor.SetTimeoutPolicy(0, defaults, replyTo));
        final Map<Integer, Long> expirationByZone = new LinkedHashMap<>();
        final List<byte[]> first = TimeoutClass.UDP_FIRST.frames(1);
        assertTracked(swept.track(first, ExecParams.commit(1), T0), 1, "udp first");
        expirationByZone.put(1, T0 + 5_000);
        final List<byte[]> multiple = TimeoutClass.UDP_MULTIPLE.frames(2);
        assertTracked(swept.track(multiple, ExecParams.commit(2), T0), 2, "udp multiple");
        expirationByZone.put(2, T0 + TimeoutAttr.UDP_MULTIPLE.defaultSeconds() * 1000L);

        walkThrough(expirationByZone);

        assertEquals(0, swept.count());
        assertLateness(2);
    }

    @Test
    @Timeout(60)
    void shouldFollowAPolicyChangedUnderExistingConnections()
    {
        swept = SweptNode.start(SweptNode.settings("sweep-policy-change", 2), FAST);
        final int shortened = 1;
        final int lengthened = 2;
        final int[] seconds = new int[TimeoutAttr.count()];
        Arrays.fill(seconds, -1);
        seconds[TimeoutAttr.UDP_MULTIPLE.ordinal()] = 5;
        swept.admin(replyTo -> new AdminActor.SetTimeoutPolicy(10, seconds, replyTo));
        seconds[TimeoutAttr.UDP_MULTIPLE.ordinal()] = 100;
        swept.admin(replyTo -> new AdminActor.SetTimeoutPolicy(20, seconds, replyTo));
        // Created under policies 10 and 20 with udp_first (defaults), then both become bidirectional.
        swept.admin(replyTo -> new AdminActor.SetZonePolicy(shortened, 10, replyTo));
        swept.admin(replyTo -> new AdminActor.SetZonePolicy(lengthened, 20, replyTo));
        final List<byte[]> a = TimeoutClass.UDP_MULTIPLE.frames(1);
        final List<byte[]> b = TimeoutClass.UDP_MULTIPLE.frames(2);
        assertTracked(swept.track(a.subList(0, 1), ExecParams.commit(shortened), T0), 1, "first");
        assertTracked(swept.track(b.subList(0, 1), ExecParams.commit(lengthened), T0), 1, "first");
        swept.sweepAt(T0 + 1_000);
        // The replies come later: udp_multiple of each policy from then on (earlier and later than udp_first's 60 s).
        assertTracked(swept.track(a.subList(1, 2), ExecParams.commit(shortened), T0 + 2_000), 1, "reply");
        assertTracked(swept.track(b.subList(1, 2), ExecParams.commit(lengthened), T0 + 2_000), 1, "reply");

        final Map<Integer, Long> expirationByZone = new LinkedHashMap<>();
        expirationByZone.put(shortened, T0 + 7_000);
        expirationByZone.put(lengthened, T0 + 102_000);
        walkAround(T0 + 7_000, expirationByZone);
        // Through where udp_first would have ended: the lengthened one must survive its old slot.
        walkAround(T0 + 60_000, expirationByZone);
        walkAround(T0 + 102_000, expirationByZone);
        assertEquals(0, swept.count());
        assertLateness(2);
    }

    @Test
    @Timeout(60)
    void shouldRemoveExactlyTheExpiredAfterJumpsLongerThanAWheelRevolution()
    {
        final int budget = 16;
        swept = SweptNode.start(SweptNode.settings("sweep-jump", 2), new SweepSettings(2, 0, budget));
        final long revolutionMs = swept.node.settings().wheelSlots() * swept.slotMs();
        final int flows = 1_000;
        // Expirations spread over more than a revolution, so several sit in the same slot a revolution apart.
        final long spacingMs = revolutionMs * 3 / 2 / flows;
        final long[] expirations = new long[flows];
        for (int i = 0; i < flows; i++)
        {
            final long at = T0 + i * spacingMs;
            swept.track(TimeoutClass.UDP_FIRST.frames(i), ExecParams.commit(0), at);
            expirations[i] = at + TimeoutAttr.UDP_FIRST.defaultSeconds() * 1000L;
        }
        // And a connection that outlives all of it.
        assertTracked(swept.track(TimeoutClass.TCP_ESTABLISHED.frames(5_000), ExecParams.commit(1), T0), 5,
            "established");

        for (final long t : new long[] { T0 + revolutionMs / 2, T0 + revolutionMs + 1_000, T0 + 2 * revolutionMs })
        {
            long due = 0;
            long kept = 1;
            for (final long expiration : expirations)
            {
                due += t >= swept.slotEnd(expiration) ? 1 : 0;
                kept += t < expiration ? 1 : 0;
            }
            assertEquals(flows + 1, due + kept, "no expiration falls within the slot of a jump target");
            final long expected = kept;
            swept.clock.set(t);
            SweptNode.await(() -> swept.node.limits().count() <= expected, "the sweep catching up at T0+" + (t - T0));
            swept.sweepAt(t);
            assertEquals(expected, swept.count(), "at T0+" + (t - T0) + " ms");
        }
        assertEquals(1, swept.node.limits().zoneCount(1), "the established connection is kept");
        assertEquals(flows, swept.total(EngineCounter.CONN_EXPIRED));
        assertTrue(swept.total(EngineCounter.SWEEP_STEPS_AT_BUDGET) >= flows / budget);
    }

    @Test
    @Timeout(60)
    void shouldKeepSweepingAfterABucketRestart()
    {
        swept = SweptNode.start(SweptNode.settings("sweep-restart", 2), FAST);
        final List<Integer> zones = new ArrayList<>();
        for (int i = 0; i < 40; i++)
        {
            final int zone = 1 + i;
            swept.track(TimeoutClass.UDP_FIRST.frames(i), ExecParams.commit(zone), T0);
            zones.add(zone);
        }
        swept.sweepAt(T0 + 1_000);
        for (int b = 0; b < swept.node.buckets(); b++)
        {
            final int bucket = b;
            swept.admin(replyTo -> new AdminActor.FailBucket(bucket, replyTo));
            SweptNode.await(() -> swept.node.bucketRestarts(bucket) == 1, "bucket " + bucket + " restarted");
        }
        assertEquals(zones.size(), swept.count(), "a restart keeps the table");

        final long expiration = T0 + TimeoutAttr.UDP_FIRST.defaultSeconds() * 1000L;
        swept.sweepAt(expiration - STEP_MS);
        assertEquals(zones.size(), swept.count());
        swept.sweepAt(swept.slotEnd(expiration));
        assertEquals(0, swept.count());
        assertLateness(zones.size());
    }
}
