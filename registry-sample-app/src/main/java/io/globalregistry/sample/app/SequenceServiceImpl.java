package io.globalregistry.sample.app;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.boot.FencingTokenAware;
import io.globalregistry.boot.GlobalSingleton;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;

/**
 * The real sequence: created, ticking and destroyed only on the node that owns the name {@code "sequence"};
 * every other node's {@link SequenceService} is a proxy that calls it. Its numbers restart on a new owner
 * (keep them in a store guarded by the fencing token to carry them over).
 */
@Service
@GlobalSingleton(name = "sequence")
public class SequenceServiceImpl implements SequenceService, FencingTokenAware {

    private static final Logger LOG = LoggerFactory.getLogger(SequenceServiceImpl.class);

    private final String node;
    private final AtomicLong value = new AtomicLong();
    private long fencingToken;

    public SequenceServiceImpl(GlobalNameRegistry registry) {
        this.node = registry.nodeId().name();
    }

    @Override
    public void setFencingToken(long fencingToken) {
        this.fencingToken = fencingToken;
    }

    @PostConstruct
    void start() {
        LOG.info("Sequence started on {} (fencing token {})", node, fencingToken);
    }

    @PreDestroy
    void stop() {
        LOG.info("Sequence stopped on {} at {}", node, value.get());
    }

    /**
     * Runs at the start of every wall-clock second, on the owner only: the cluster logs one tick a second, and
     * a second with ticks from two nodes would mean two active instances. The line is parsed by the tests:
     * {@code TICK node=<name> epochSecond=<s> epochMilli=<ms> value=<n> fencingToken=<t>}.
     */
    @Scheduled(cron = "* * * * * *")
    void tick() {
        Instant now = Instant.now();
        LOG.info("TICK node={} epochSecond={} epochMilli={} value={} fencingToken={}", node, now.getEpochSecond(),
                now.toEpochMilli(), value.get(), fencingToken);
    }

    @Override
    public SequenceValue next() {
        return new SequenceValue(value.incrementAndGet(), node);
    }
}
