package io.globalregistry.sample.app;

import io.globalregistry.GlobalNameRegistry;
import io.globalregistry.MessageHandler;
import io.globalregistry.NoSuchNameException;
import io.globalregistry.Registration;
import io.globalregistry.RegistrationResult;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Dynamic names: {@code POST /rooms/{id}} opens the room {@code ["room", id]} on this node unless another node
 * has it; {@code POST /rooms/{id}/messages} (a text body) sends to the room wherever it is; {@code GET /rooms/{id}}
 * tells where it is (and its messages, when here).
 */
@RestController
@RequestMapping("/rooms")
public class RoomController {

    private static final Logger LOG = LoggerFactory.getLogger(RoomController.class);

    private final GlobalNameRegistry registry;

    public RoomController(GlobalNameRegistry registry) {
        this.registry = registry;
    }

    /** What runs under a room's name on its owner. */
    static final class Room implements MessageHandler<String> {
        final List<String> messages = new CopyOnWriteArrayList<>();
        private final String id;

        Room(String id) {
            this.id = id;
        }

        @Override
        public void onMessage(String message) {
            LOG.info("Room {} got: {}", id, message);
            messages.add(message);
        }
    }

    /** Where a room is: its owner node, whether it is here, and its messages when here. */
    public record RoomView(String room, String owner, boolean local, List<String> messages) {
    }

    @PostMapping("/{id}")
    public RoomView open(@PathVariable String id) {
        RegistrationResult result = registry.register(name(id), new Room(id));
        String owner = result.knownOwner().map(node -> node.name()).orElse(null);
        return new RoomView(id, owner, result.registered(), List.of());
    }

    @PostMapping("/{id}/messages")
    public ResponseEntity<Void> send(@PathVariable String id, @RequestBody String message) {
        try {
            registry.send(name(id), message);
            return ResponseEntity.accepted().build();
        } catch (NoSuchNameException e) {
            return ResponseEntity.status(HttpStatus.NOT_FOUND).build();
        }
    }

    @GetMapping("/{id}")
    public ResponseEntity<RoomView> where(@PathVariable String id) {
        return registry.whereis(name(id)).map(registration -> view(id, registration)).map(ResponseEntity::ok)
                .orElse(ResponseEntity.notFound().build());
    }

    private static RoomView view(String id, Registration registration) {
        List<String> messages = registration.target() instanceof Room ? List.copyOf(((Room) registration.target()).messages)
                : List.of();
        return new RoomView(id, registration.owner().name(), registration.isLocal(), messages);
    }

    private static List<Object> name(String id) {
        return List.of("room", id);
    }
}
