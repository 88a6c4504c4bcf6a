//! A VM's NIC as the host sees it: a TAP device (Linux `/dev/net/tun`) whose frames the switch
//! reads and writes. The device is created in the host namespace, then moved into the VM's
//! namespace; the switch keeps its file descriptor, and the device goes away with it. As a
//! virtual NIC does, it offloads checksums and TCP segmentation: each frame comes with a
//! virtio-net header, and a guest's TCP stream crosses in frames of up to 64 KiB.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// `_IOW('T', 202, int)`.
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
/// `_IOW('T', 208, unsigned int)`.
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
const IFF_VNET_HDR: libc::c_int = 0x4000;
/// Checksum offload, and TCP segmentation offload for IPv4 and IPv6 (with ECN).
const OFFLOADS: libc::c_ulong = 0x01 | 0x02 | 0x04 | 0x08;

/// The virtio-net header in front of every frame.
pub const VNET_HDR_LEN: usize = 10;
/// The header's flag: the transport checksum is left for the receiver (it holds only the
/// pseudo-header's sum).
pub const NEEDS_CSUM: u8 = 1;

#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

pub struct Tap {
    file: File,
    pub name: String,
}

impl Tap {
    /// Creates a TAP device (Ethernet frames, no packet-information header), non-blocking.
    pub fn create(name: &str) -> io::Result<Tap> {
        if name.len() >= libc::IFNAMSIZ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("device name '{name}' is longer than 15 bytes"),
            ));
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/net/tun")?;
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            flags: (libc::IFF_TAP | libc::IFF_NO_PI | IFF_VNET_HDR) as libc::c_short,
            _pad: [0; 22],
        };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: TUNSETIFF reads and writes one ifreq, which `req` is laid out as.
        if unsafe { libc::ioctl(file.as_raw_fd(), TUNSETIFF as _, &mut req) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: TUNSETOFFLOAD takes its flags by value.
        if unsafe { libc::ioctl(file.as_raw_fd(), TUNSETOFFLOAD as _, OFFLOADS) } < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: plain fcntl flag calls on a descriptor we own.
        unsafe {
            let flags = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(file.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        Ok(Tap {
            file,
            name: name.to_string(),
        })
    }

    /// One frame with its virtio-net header, or `WouldBlock` when none is waiting.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.file).read(buf)
    }

    /// Sends one frame, with its virtio-net header, to the guest. A full queue drops it, as a
    /// NIC would.
    pub fn write(&self, frame: &[u8]) -> io::Result<()> {
        match (&self.file).write(frame) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl AsFd for Tap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}
