package mta.net;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The event loops of a node's SMTP connections and the channel types that go with them.
 *
 * <p>On Linux, Netty's native epoll transport when it loads: it reads and writes a socket and
 * waits for events with fewer system calls and wake-ups than the JDK's selector (edge-triggered
 * epoll, an eventfd to wake a loop, no selected-key sets to allocate and walk), which on a busy
 * relay is CPU per message (bench/RESULTS.md). Elsewhere, or with Netty's own switch
 * {@code -Dio.netty.transport.noNative=true}, the JDK's NIO selector: the same behaviour.
 *
 * @param group the loops: connections are spread over them, each served by one thread
 * @param serverChannel the listening socket's channel type, for smtpd
 * @param channel a connection's channel type, for the delivery agent's clients
 */
public record EventLoops(EventLoopGroup group, Class<? extends ServerSocketChannel> serverChannel,
    Class<? extends SocketChannel> channel) {

  /** {@code threads} event loops on the best transport here. */
  public static EventLoops create(int threads) {
    return Epoll.isAvailable()
        ? new EventLoops(new MultiThreadIoEventLoopGroup(threads, EpollIoHandler.newFactory()),
            EpollServerSocketChannel.class, EpollSocketChannel.class)
        : new EventLoops(new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory()),
            NioServerSocketChannel.class, NioSocketChannel.class);
  }

  /** "epoll" or "nio", for the node's start-up line. */
  public String transport() {
    return channel == EpollSocketChannel.class ? "epoll" : "nio";
  }
}
