package io.ctrack.shards;

import io.ctrack.engine.Conntrack;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.pcap.PcapReader;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.ConntrackDriver;
import io.ctrack.engine.testing.Corpus;
import io.ctrack.engine.testing.Traffic;
import io.ctrack.transport.PacketWorker;
import org.agrona.concurrent.UnsafeBuffer;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;

import static io.ctrack.engine.testing.Traffic.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A node answers every packet as the embedded engine does, whatever the number of buckets. */
@ExtendWith(LogCapturingExtension.class)
class NodeEquivalenceTest
{
    @ParameterizedTest
    @ValueSource(ints = { 1, 16 })
    @Timeout(60)
    void shouldGiveTheVerdictsOfTheEmbeddedEngine(final int buckets)
    {
        final Random random = new Random(buckets * 31L);
        final List<byte[]> frames = Traffic.mixed(random, 400, 100);
        final Conntrack embedded = new Conntrack();
        final ShardedNode node = ShardedNode.start(NodeTesting.settings("equiv", buckets));
        try
        {
            final PacketWorker worker = node.newWorker(1);
            final long startMs = System.currentTimeMillis();
            long nowMs = startMs;
            int mismatches = 0;
            final StringBuilder report = new StringBuilder();
            for (int first = 0; first < frames.size(); )
            {
                final int n = Math.min(1 + random.nextInt(48), frames.size() - first);
                final FrameBatch batch = Traffic.batchOf(frames.subList(first, first + n));
                final UnsafeBuffer viaNode = Traffic.poisoned(n);
                final UnsafeBuffer viaEngine = Traffic.poisoned(n);
                final ExecParams params = ExecParams.commit(buckets == 1 ? 0 : 2);
                worker.process(batch, params, nowMs, viaNode, 0);
                embedded.execute(batch, params, nowMs, viaEngine, 0);
                for (int i = 0; i < n; i++)
                {
                    final String expected = Traffic.describe(verdict(viaEngine, i));
                    final String actual = Traffic.describe(verdict(viaNode, i));
                    if (!expected.equals(actual))
                    {
                        mismatches++;
                        report.append("\nframe ").append(first + i).append(": engine ").append(expected)
                            .append(", node ").append(actual);
                    }
                }
                first += n;
                nowMs += 3;
            }
            assertEquals(0, mismatches, report.toString());
            assertTrue(frames.size() >= 1000, "a few hundred flows: " + frames.size() + " frames");

            final long[] totals = node.counterTotals();
            for (final EngineCounter counter : new EngineCounter[] {
                EngineCounter.PACKETS, EngineCounter.CONN_CREATED, EngineCounter.INVALID_TCP_FLAGS,
                EngineCounter.INVALID_L4_CHECKSUM, EngineCounter.INVALID_RELATED_UNKNOWN, EngineCounter.INVALID_NOT_IP })
            {
                assertEquals(embedded.counter(counter), totals[counter.id()], counter.name());
            }
            assertEquals(0, totals[EngineCounter.DROPPED_BACK_PRESSURE.id()]);
            assertEquals(0, totals[EngineCounter.DROPPED_VERDICT_TIMEOUT.id()]);

            // The same connections, as dump-conntrack prints them.
            final List<String> expectedDump = new ConntrackDriver(embedded).dumpAll(System.currentTimeMillis());
            final List<String> actualDump = new ArrayList<>(NodeTesting.dump(node, -1));
            Collections.sort(actualDump);
            assertEquals(expectedDump, actualDump);
            assertEquals(expectedDump.size(), NodeTesting.countConnections(node));
            if (buckets > 1)
            {
                for (int b = 0; b < buckets; b++)
                {
                    assertTrue(node.bucketCounter(b, EngineCounter.REQUESTS) > 0, "bucket " + b + " idle");
                }
            }
        }
        finally
        {
            NodeTesting.close(node);
        }
    }

    /** Every corpus capture replayed through a 16-bucket node gives Open vSwitch's verdicts (batches of 32). */
    @Test
    @Timeout(60)
    void shouldReplayTheCorpusAsOpenVSwitchDoes() throws Exception
    {
        replayAll(Corpus.pcaps(), 32, ShardedNode.BucketHelp.AUTO);
    }

    /**
     * The project's differential captures (IPv6, SCTP, ICMP errors, TCP retransmission and mid-stream cases, random
     * corruption) through a 16-bucket node, batches of 1 and 32.
     */
    @Test
    @Timeout(120)
    void shouldReplayTheDifferentialCapturesAsOpenVSwitchDoes() throws Exception
    {
        final List<Path> pcaps = Corpus.pcaps(Corpus.differentialDir());
        replayAll(pcaps, 1, ShardedNode.BucketHelp.AUTO);
        replayAll(pcaps, 32, ShardedNode.BucketHelp.AUTO);
    }

    /**
     * The same with the packet thread running the buckets' work while it waits (as two packet threads on two cores
     * do).
     */
    @Test
    @Timeout(120)
    void shouldReplayTheDifferentialCapturesAsOpenVSwitchDoesWhenThePacketThreadHelps() throws Exception
    {
        replayAll(Corpus.pcaps(Corpus.differentialDir()), 32, ShardedNode.BucketHelp.ON);
    }

    /**
     * Replays each capture (in a zone of its own) through a fresh 16-bucket node in batches of {@code batch} and
     * compares with Open vSwitch's output for that batch size, or, where there is none, the embedded engine's.
     */
    private static void replayAll(final List<Path> pcaps, final int batch, final ShardedNode.BucketHelp help)
        throws Exception
    {
        final ShardedNode node = ShardedNode.start(NodeTesting.settings("corpus", 16)).bucketHelp(help);
        try
        {
            int zone = 1;
            for (final Path pcap : pcaps)
            {
                final PacketWorker worker = node.newWorker(1);
                if (help == ShardedNode.BucketHelp.ON)
                {
                    assertTrue(node.bucketHelpOn(), "the packet thread should be helping");
                }
                // A zone per file: the captures reuse addresses.
                final List<String> actual = replay(worker, pcap, ExecParams.commit(zone++), batch);
                final Optional<Path> expectedFile = Corpus.expected(pcap, batch);
                final List<String> expected = expectedFile.isPresent() ? Corpus.readLines(expectedFile.get())
                    : Corpus.replay(pcap, batch);
                assertEquals(expected, actual, pcap.getFileName() + " in batches of " + batch
                    + (expectedFile.isPresent() ? " (Open vSwitch)" : " (embedded engine)"));
                node.closeWorker(worker);
            }
        }
        finally
        {
            NodeTesting.close(node);
        }
    }

    private static List<String> replay(final PacketWorker worker, final Path pcap, final ExecParams params,
        final int batchSize) throws Exception
    {
        final List<String> lines = new ArrayList<>();
        final FrameBatch frames = new FrameBatch(batchSize);
        final UnsafeBuffer verdicts = new UnsafeBuffer(new byte[batchSize * Verdict.LENGTH]);
        try (PcapReader reader = PcapReader.open(pcap))
        {
            reader.validate();
            final List<byte[]> copies = new ArrayList<>();
            boolean more = true;
            while (more)
            {
                copies.clear();
                frames.clear();
                while (frames.count() < batchSize && (more = reader.next()))
                {
                    final byte[] copy = new byte[reader.frameLength()];
                    reader.buffer().getBytes(reader.frameOffset(), copy);
                    copies.add(copy);
                    frames.add(new UnsafeBuffer(copy), 0, copy.length);
                }
                if (frames.count() == 0)
                {
                    break;
                }
                verdicts.setMemory(0, verdicts.capacity(), Traffic.POISON);
                worker.process(frames, params, System.currentTimeMillis(), verdicts, 0);
                for (int i = 0; i < frames.count(); i++)
                {
                    lines.add((lines.size() + 1) + ": " + CtState.format(verdict(verdicts, i).ctState()));
                }
            }
        }
        return lines;
    }
}
