package mta.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.socket.SocketChannel;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

class EventLoopsTest {

  /** The native transport ships for Linux on x86-64 (the node's image and CI): it must load there. */
  @Test
  @EnabledOnOs(value = OS.LINUX, architectures = "amd64")
  void epollOnLinux() {
    var loops = EventLoops.create(1);
    try {
      assertEquals("epoll", loops.transport());
    } finally {
      loops.group().shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  /** smtpd's listening channel and the delivery agent's client channel talk on the same loops. */
  @Test
  void serverAndClientChannelsConnect() throws Exception {
    var loops = EventLoops.create(1);
    try {
      var greeting = new CompletableFuture<String>();
      var server = new ServerBootstrap().group(loops.group()).channel(loops.serverChannel())
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.writeAndFlush(Unpooled.copiedBuffer("220 ready\r\n", StandardCharsets.US_ASCII));
            }
          })
          .bind("127.0.0.1", 0).sync().channel();
      var client = new Bootstrap().group(loops.group()).channel(loops.channel())
          .handler(new SimpleChannelInboundHandler<ByteBuf>() {
            @Override
            protected void channelRead0(ChannelHandlerContext ctx, ByteBuf in) {
              greeting.complete(in.toString(StandardCharsets.US_ASCII));
            }
          })
          .connect(server.localAddress()).sync().channel();
      assertEquals("220 ready\r\n", greeting.get(10, TimeUnit.SECONDS));
      assertEquals(((InetSocketAddress) server.localAddress()).getPort(), ((InetSocketAddress) client.remoteAddress()).getPort());
      client.close().sync();
      server.close().sync();
    } finally {
      loops.group().shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
