package io.ctrack.engine.testing;

import io.ctrack.engine.Conntrack;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.frag.FragConfig;
import io.ctrack.engine.pcap.PcapFormatException;
import io.ctrack.engine.pcap.PcapReader;
import io.ctrack.engine.table.ConnTableConfig;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The captures with Open vSwitch's verdicts that the golden tests replay: the reference corpus
 * ({@code ../shared/corpus}, located by the system property {@value #PROPERTY}, which surefire sets; tests that
 * need it call {@link #requireDir()}, which skips them, with the path in the reason, when it is absent) and the
 * project's own differential captures ({@code testdata/differential}, property {@value #DIFFERENTIAL_PROPERTY}),
 * which every checkout has. Both lay their files out alike: {@code FILE.pcap} and {@code expected/FILE.ovs.txt} /
 * {@code FILE.ovs32.txt}.
 */
public final class Corpus
{
    public static final String PROPERTY = "ctrack.corpus.dir";
    public static final String DIFFERENTIAL_PROPERTY = "ctrack.differential.dir";

    private Corpus()
    {
    }

    /** Where the corpus should be: the property, else {@code ../../shared/corpus} from the working directory. */
    public static Path location()
    {
        final String configured = System.getProperty(PROPERTY);
        if (configured != null && !configured.isBlank())
        {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        return Path.of(System.getProperty("user.dir"), "..", "..", "shared", "corpus").toAbsolutePath().normalize();
    }

    /** The corpus directory, if it exists. */
    public static Optional<Path> dir()
    {
        final Path dir = location();
        return Files.isDirectory(dir) ? Optional.of(dir) : Optional.empty();
    }

    /** The corpus directory; skips the calling test (visibly, naming the path) when it is absent. */
    public static Path requireDir()
    {
        final Path dir = location();
        Assumptions.assumeTrue(Files.isDirectory(dir), "reference corpus not found at " + dir + ": skipping");
        return dir;
    }

    /**
     * The project's own differential captures: the property, else {@code ../testdata/differential} from the working
     * directory (a module's). They are part of the project: a missing directory fails the calling test.
     */
    public static Path differentialDir()
    {
        final String configured = System.getProperty(DIFFERENTIAL_PROPERTY);
        final Path dir = configured != null && !configured.isBlank() ? Path.of(configured)
            : Path.of(System.getProperty("user.dir"), "..", "testdata", "differential");
        final Path normalized = dir.toAbsolutePath().normalize();
        if (!Files.isDirectory(normalized.resolve("expected")))
        {
            throw new IllegalStateException("the project's differential captures are missing: " + normalized);
        }
        return normalized;
    }

    /** Every {@code *.pcap} of the corpus, sorted by name. */
    public static List<Path> pcaps()
    {
        return pcaps(requireDir());
    }

    /** Every {@code *.pcap} of {@code dir}, sorted by name. */
    public static List<Path> pcaps(final Path dir)
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.filter(p -> p.getFileName().toString().endsWith(".pcap")).sorted().toList();
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /** One corpus file by name (skips when the corpus is absent). */
    public static Path file(final String name)
    {
        final Path file = requireDir().resolve(name);
        Assumptions.assumeTrue(Files.isRegularFile(file), "corpus file " + file + " not found: skipping");
        return file;
    }

    /**
     * Open vSwitch's verdicts for {@code pcap} replayed in batches of {@code batch}: {@code expected/FILE.ovs.txt}
     * for 1, {@code expected/FILE.ovs32.txt} for 32 (other sizes have none), if the file exists.
     */
    public static Optional<Path> expected(final Path pcap, final int batch)
    {
        return expected(pcap, batch, false);
    }

    /**
     * {@link #expected(Path, int)}, or with {@code captureClock} Open vSwitch's verdicts when each batch ran at its
     * first packet's capture time ({@code expected/FILE.ovs-pcapclock.txt}, {@code FILE.ovs32-pcapclock.txt}).
     */
    public static Optional<Path> expected(final Path pcap, final int batch, final boolean captureClock)
    {
        final String suffix = batch == 1 ? ".ovs" : batch == 32 ? ".ovs32" : null;
        if (suffix == null)
        {
            return Optional.empty();
        }
        final Path file = pcap.resolveSibling("expected")
            .resolve(pcap.getFileName() + suffix + (captureClock ? "-pcapclock.txt" : ".txt"));
        return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
    }

    public static List<String> readLines(final Path file)
    {
        try
        {
            return Files.readAllLines(file, StandardCharsets.US_ASCII);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    /**
     * Replays {@code pcap} exactly as {@code ctrack replay FILE --batch N} does: a fresh engine, commit in zone 0,
     * batches of {@code batch} frames, each batch executed at the wall clock. Returns one {@code N: flags} line per
     * packet.
     */
    public static List<String> replay(final Path pcap, final int batch) throws IOException, PcapFormatException
    {
        return replay(new Conntrack(ConnTableConfig.of(0, 4096), FragConfig.DEFAULT), pcap, batch);
    }

    /** {@link #replay(Path, int)} into {@code conntrack}, whose table the caller can then look at. */
    public static List<String> replay(final Conntrack conntrack, final Path pcap, final int batch)
        throws IOException, PcapFormatException
    {
        return replay(conntrack, pcap, batch, false);
    }

    /**
     * {@link #replay(Conntrack, Path, int)}; with {@code captureClock} each batch runs at its first packet's capture
     * time (milliseconds, truncated), as {@code ctrack replay --clock pcap} does.
     */
    public static List<String> replay(final Conntrack conntrack, final Path pcap, final int batch,
        final boolean captureClock) throws IOException, PcapFormatException
    {
        return replay(conntrack, pcap, batch, captureClock, null, false);
    }

    /**
     * {@link #replay(Conntrack, Path, int, boolean)} with {@code tracked} (or null) handed to the engine, which then
     * runs every frame on its general path; with {@code rawVerdicts} each line holds the packet's whole verdict
     * (its 32 bytes in hex: state, flags, reason, mark, connection id, labels) instead of its flags.
     */
    public static List<String> replay(final Conntrack conntrack, final Path pcap, final int batch,
        final boolean captureClock, final Conntrack.Tracked tracked, final boolean rawVerdicts)
        throws IOException, PcapFormatException
    {
        final ExecParams params = ExecParams.commit(0);
        final FrameBatch frames = new FrameBatch(batch);
        final UnsafeBuffer verdicts = new UnsafeBuffer(new byte[batch * Verdict.LENGTH]);
        final Verdict verdict = new Verdict();
        final List<String> lines = new ArrayList<>();
        try (PcapReader reader = PcapReader.open(pcap))
        {
            reader.validate();
            boolean more = true;
            while (more)
            {
                frames.clear();
                long firstNanos = 0;
                while (frames.count() < batch && (more = reader.next()))
                {
                    if (frames.count() == 0)
                    {
                        firstNanos = reader.timestampNanos();
                    }
                    frames.add(reader.buffer(), reader.frameOffset(), reader.frameLength());
                }
                if (frames.count() == 0)
                {
                    break;
                }
                // The replay command's clocks: the wall clock per batch (its default, as Open vSwitch's
                // harness), or the batch's first capture time.
                final long nowMs = captureClock ? firstNanos / 1_000_000 : System.currentTimeMillis();
                if (tracked == null)
                {
                    conntrack.execute(frames, params, nowMs, verdicts, 0);
                }
                else
                {
                    conntrack.execute(frames, params, null, nowMs, verdicts, 0, Verdict.LENGTH, true, tracked);
                }
                for (int i = 0; i < frames.count(); i++)
                {
                    verdict.wrap(verdicts, i * Verdict.LENGTH);
                    lines.add((lines.size() + 1) + ": " + (rawVerdicts ? hex(verdicts, i * Verdict.LENGTH)
                        : CtState.format(verdict.ctState())));
                }
            }
        }
        return lines;
    }

    private static String hex(final UnsafeBuffer buffer, final int offset)
    {
        final StringBuilder out = new StringBuilder(Verdict.LENGTH * 2);
        for (int i = 0; i < Verdict.LENGTH; i++)
        {
            out.append(String.format("%02x", buffer.getByte(offset + i) & 0xFF));
        }
        return out.toString();
    }
}
