//! A bare WebSocket client over a tokio `TcpStream`, for the suites that hold many connections or
//! need control of the socket itself (a small receive buffer, not reading at all): the upgrade
//! request, masked text frames out, and a frame reader for what the server sends.

#![allow(dead_code, unreachable_pub)] // each test file uses a part

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};

/// One frame from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame: one or more protocol messages, one per line.
    Text(Vec<u8>),
    /// The close frame, with its code when it has one.
    Close(Option<u16>),
    /// Any other control or binary frame.
    Other,
}

/// A WebSocket connection to `/connection/websocket` at `addr`.
pub struct WsConn {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl WsConn {
    /// Connects and upgrades; `recv_buffer` sets `SO_RCVBUF` before connecting (the kernel keeps
    /// its window small for the whole connection).
    pub async fn open(addr: SocketAddr, recv_buffer: Option<u32>) -> std::io::Result<Self> {
        let socket = TcpSocket::new_v4()?;
        if let Some(size) = recv_buffer {
            socket.set_recv_buffer_size(size)?;
        }
        let mut stream = socket.connect(addr).await?;
        let request = format!(
            "GET /connection/websocket HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut buffer = Vec::with_capacity(1024);
        let end = loop {
            if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            let mut chunk = [0_u8; 1024];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::Error::other("closed during the upgrade"));
            }
            buffer.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buffer[..end]).into_owned();
        if !head.starts_with("HTTP/1.1 101") {
            return Err(std::io::Error::other(format!("upgrade refused: {head}")));
        }
        buffer.drain(..end);
        Ok(Self { stream, buffer })
    }

    /// Sends one masked text frame.
    pub async fn send_text(&mut self, text: &str) -> std::io::Result<()> {
        const MASK: [u8; 4] = [0x12, 0x34, 0x56, 0x78];
        let payload = text.as_bytes();
        let mut frame = Vec::with_capacity(payload.len() + 14);
        frame.push(0x81);
        match payload.len() {
            n if n < 126 => frame.push(0x80 | u8::try_from(n).unwrap_or(125)),
            n if n <= usize::from(u16::MAX) => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&MASK);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
        self.stream.write_all(&frame).await
    }

    /// The next frame; `Close(None)` when the socket ends without a close frame.
    pub async fn next_frame(&mut self) -> Frame {
        loop {
            if let Some((frame, used)) = parse(&self.buffer) {
                self.buffer.drain(..used);
                return frame;
            }
            let mut chunk = [0_u8; 16 * 1024];
            match self.stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return Frame::Close(None),
                Ok(n) => self.buffer.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// The next protocol messages (the lines of the next text frame), answering the server's
    /// pings (`{}`) with pongs as centrifuge-js does; `Err` with the close code once closed.
    pub async fn next_messages(&mut self) -> Result<Vec<Vec<u8>>, Option<u16>> {
        loop {
            match self.next_frame().await {
                Frame::Text(text) => {
                    let mut messages = Vec::new();
                    for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                        if line == b"{}" {
                            self.send_text("{}").await.map_err(|_| None)?;
                        } else {
                            messages.push(line.to_vec());
                        }
                    }
                    if !messages.is_empty() {
                        return Ok(messages);
                    }
                }
                Frame::Close(code) => return Err(code),
                Frame::Other => {}
            }
        }
    }

    /// Sends `command` and reads until a message carrying `"id":<id>` arrives; returns it.
    pub async fn call(&mut self, id: u32, command: &str) -> Result<serde_json::Value, Option<u16>> {
        self.send_text(command).await.map_err(|_| None)?;
        loop {
            for message in self.next_messages().await? {
                // Replies start with their id, pushes with `push`.
                if message.starts_with(b"{\"id\"") {
                    let value: serde_json::Value =
                        serde_json::from_slice(&message).map_err(|_| None)?;
                    if value["id"] == id {
                        return Ok(value);
                    }
                }
            }
        }
    }
}

/// One frame at the start of `buffer`, with the bytes it takes, once it is all there.
fn parse(buffer: &[u8]) -> Option<(Frame, usize)> {
    if buffer.len() < 2 {
        return None;
    }
    let opcode = buffer[0] & 0x0f;
    let masked = buffer[1] & 0x80 != 0;
    let (len, mut at) = match buffer[1] & 0x7f {
        126 => (
            usize::from(u16::from_be_bytes(buffer.get(2..4)?.try_into().ok()?)),
            4,
        ),
        127 => (
            usize::try_from(u64::from_be_bytes(buffer.get(2..10)?.try_into().ok()?)).ok()?,
            10,
        ),
        n => (usize::from(n), 2),
    };
    if masked {
        at += 4;
    }
    let payload = buffer.get(at..at + len)?;
    let frame = match opcode {
        // The server sends whole messages: a text frame (or its continuation) is one message.
        0x1 | 0x0 => Frame::Text(payload.to_vec()),
        0x8 => Frame::Close(
            payload
                .get(..2)
                .map(|code| u16::from_be_bytes([code[0], code[1]])),
        ),
        _ => Frame::Other,
    };
    Some((frame, at + len))
}

/// The decimal number right after the first `key` in `message`.
pub fn number_after(message: &[u8], key: &[u8]) -> Option<u64> {
    let at = message.windows(key.len()).position(|w| w == key)? + key.len();
    let digits = message[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&message[at..at + digits])
        .ok()?
        .parse()
        .ok()
}
