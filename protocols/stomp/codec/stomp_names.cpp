// Names of versions, commands and reasons; StompFrame accessors.
#include "stomp_internal.h"

namespace junction::stomp {

namespace {

struct CommandName {
  Command command;
  std::string_view name;
};

constexpr CommandName kCommands[] = {
    {Command::Connect, "CONNECT"},     {Command::Stomp, "STOMP"},
    {Command::Send, "SEND"},           {Command::Subscribe, "SUBSCRIBE"},
    {Command::Unsubscribe, "UNSUBSCRIBE"}, {Command::Ack, "ACK"},
    {Command::Nack, "NACK"},           {Command::Begin, "BEGIN"},
    {Command::Commit, "COMMIT"},       {Command::Abort, "ABORT"},
    {Command::Disconnect, "DISCONNECT"}, {Command::Connected, "CONNECTED"},
    {Command::Message, "MESSAGE"},     {Command::Receipt, "RECEIPT"},
    {Command::Error, "ERROR"},
};

}  // namespace

std::string_view version_string(Version v) {
  switch (v) {
    case Version::V1_0: return "1.0";
    case Version::V1_1: return "1.1";
    case Version::V1_2: return "1.2";
  }
  return "?";
}

std::string_view command_name(Command c) {
  for (const CommandName& n : kCommands)
    if (n.command == c) return n.name;
  return "?";
}

std::optional<Command> command_from_name(std::string_view name) {
  for (const CommandName& n : kCommands)
    if (n.name == name) return n.command;
  return std::nullopt;
}

bool command_allows_body(Command c) {
  // 1.2 "Body": "Only the SEND, MESSAGE, and ERROR frames MAY have a body.
  // All other frames MUST NOT have a body."
  return c == Command::Send || c == Command::Message || c == Command::Error;
}

bool command_is_client(Command c) {
  return static_cast<std::uint8_t>(c) <= static_cast<std::uint8_t>(Command::Disconnect);
}

const char* reason_name(Reason r) {
  switch (r) {
    case Reason::Ok: return "ok";
    case Reason::UnknownCommand: return "unknown command";
    case Reason::BadLineEnding: return "bad line ending";
    case Reason::MissingColon: return "header without colon";
    case Reason::EmptyHeaderName: return "empty header name";
    case Reason::InvalidEscape: return "invalid escape sequence";
    case Reason::BadContentLength: return "bad content-length";
    case Reason::MissingNul: return "body not terminated by NUL";
    case Reason::BodyNotAllowed: return "body not allowed";
    case Reason::CommandTooLong: return "command too long";
    case Reason::HeaderLineTooLong: return "header line too long";
    case Reason::TooManyHeaders: return "too many headers";
    case Reason::FrameTooLarge: return "frame too large";
    case Reason::UnsupportedVersion: return "unsupported protocol version";
    case Reason::BadHeartBeat: return "bad heart-beat";
    case Reason::Unencodable: return "unencodable frame";
  }
  return "unknown";
}

bool is_limit(Reason r) {
  return r == Reason::CommandTooLong || r == Reason::HeaderLineTooLong || r == Reason::TooManyHeaders ||
         r == Reason::FrameTooLarge;
}

const std::string_view* StompFrame::header(std::string_view name) const {
  for (const Header& h : headers)
    if (h.name == name) return &h.value;
  return nullptr;
}

void StompFrame::clear() {
  headers.clear();
  body = {};
  total_size = 0;
}

}  // namespace junction::stomp
