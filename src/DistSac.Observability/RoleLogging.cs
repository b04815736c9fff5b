using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace DistSac.Observability;

/// <summary>How every role writes its log to the console.</summary>
public enum LogFormat
{
    /// <summary>One line per message: UTC time, level, role, message (`08:15:02.125Z info  gateway: ...`).</summary>
    Text,

    /// <summary>One JSON object per line (time, level, role, category, event, message, exception): for log collectors.</summary>
    Json,
}

/// <summary>
/// The one logging set-up of every role (learner, gateway, worker): the same console format with UTC timestamps and
/// the role's name, so `distsac local` and a cluster's log collector see one shape. DISTSAC_LOG_FORMAT=json switches
/// every role to JSON lines.
/// </summary>
public static class RoleLogging
{
    public const string FormatVariable = "DISTSAC_LOG_FORMAT";

    /// <summary>A logger factory for <paramref name="role"/>; <paramref name="configure"/> adds filters or configuration.</summary>
    /// <exception cref="ArgumentException">DISTSAC_LOG_FORMAT is set to something other than text or json.</exception>
    public static ILoggerFactory Create(string role, Action<ILoggingBuilder>? configure = null, LogLevel minimumLevel = LogLevel.Information)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(role);
        var format = FormatFromEnvironment();
        return LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(minimumLevel);
            configure?.Invoke(builder);
            builder.Services.AddSingleton<ConsoleFormatter>(new RoleConsoleFormatter(role, format, TimeProvider.System));
            builder.AddConsole(options => options.FormatterName = RoleConsoleFormatter.FormatterName);
        });
    }

    /// <summary>DISTSAC_LOG_FORMAT: unset or "text" is <see cref="LogFormat.Text"/>, "json" is <see cref="LogFormat.Json"/>.</summary>
    public static LogFormat FormatFromEnvironment() => ParseFormat(Environment.GetEnvironmentVariable(FormatVariable));

    public static LogFormat ParseFormat(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "text" => LogFormat.Text,
        "json" => LogFormat.Json,
        _ => throw new ArgumentException($"{FormatVariable} = '{value}' is invalid: use text or json."),
    };
}

/// <summary>Writes <see cref="LogFormat.Text"/> or <see cref="LogFormat.Json"/> lines; see <see cref="RoleLogging"/>.</summary>
public sealed class RoleConsoleFormatter : ConsoleFormatter
{
    public const string FormatterName = "distsac";
    private readonly string _role;
    private readonly LogFormat _format;
    private readonly TimeProvider _time;

    public RoleConsoleFormatter(string role, LogFormat format, TimeProvider time) : base(FormatterName)
    {
        _role = role;
        _format = format;
        _time = time;
    }

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception) ?? logEntry.State?.ToString() ?? "";
        if (logEntry.Exception is null && message.Length == 0) return;
        var now = _time.GetUtcNow();
        if (_format == LogFormat.Json) WriteJson(textWriter, now, logEntry.LogLevel, logEntry.Category, logEntry.EventId, message, logEntry.Exception);
        else WriteText(textWriter, now, logEntry.LogLevel, logEntry.Category, message, logEntry.Exception);
    }

    private void WriteText(TextWriter writer, DateTimeOffset now, LogLevel level, string category, string message, Exception? exception)
    {
        var line = new StringBuilder(64 + message.Length);
        line.Append(now.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture)).Append("Z ")
            .Append(ShortLevel(level)).Append(' ').Append(_role);
        var source = ShortCategory(category);
        if (source.Length > 0 && !source.Equals(_role, StringComparison.OrdinalIgnoreCase)) line.Append('/').Append(source);
        line.Append(": ").Append(message);
        if (exception is not null) line.Append(Environment.NewLine).Append(exception);
        writer.WriteLine(line.ToString());
    }

    private void WriteJson(TextWriter writer, DateTimeOffset now, LogLevel level, string category, EventId eventId, string message, Exception? exception)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + message.Length);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            json.WriteString("level", level.ToString());
            json.WriteString("role", _role);
            json.WriteString("category", category);
            if (eventId.Id != 0) json.WriteNumber("event", eventId.Id);
            json.WriteString("message", message);
            if (exception is not null) json.WriteString("exception", exception.ToString());
            json.WriteEndObject();
        }
        writer.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    /// <summary>The last segment of a type-name category (DistSac.Replay.ShardedReplay -> ShardedReplay).</summary>
    private static string ShortCategory(string category)
    {
        int dot = category.LastIndexOf('.');
        return dot >= 0 ? category[(dot + 1)..] : category;
    }

    private static string ShortLevel(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };
}
