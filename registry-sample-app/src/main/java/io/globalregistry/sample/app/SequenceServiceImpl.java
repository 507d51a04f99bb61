package io.globalregistry.sample.app;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.boot.FencingTokenAware;
import io.globalregistry.boot.GlobalSingleton;
import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
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

    @Scheduled(fixedRate = 1000)
    void tick() {
        LOG.info("Sequence tick on {}: at {} (fencing token {})", node, value.get(), fencingToken);
    }

    @Override
    public SequenceValue next() {
        return new SequenceValue(value.incrementAndGet(), node);
    }
}
