using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.Extensions.Options;

namespace DistSac.Settings;

/// <summary>
/// Validates an options record the same way for every role: its DataAnnotations ([Range], [Required]) first, then the
/// checks attributes cannot say, written as an <see cref="IValidateOptions{TOptions}"/> (Microsoft.Extensions.Options'
/// contract, so a generic host can run the same rules with ValidateOnStart). A failure is a
/// <see cref="ValidationException"/> whose message names the key, the value and the fix:
/// "Section:Key = value is invalid: reason (set it with ...)"; `distsac` prints it as "error: ..." and exits 2.
/// </summary>
public static class SettingsValidation
{
    /// <summary>Throws <see cref="ValidationException"/> with the first failure.</summary>
    public static void ThrowIfInvalid<T>(T options, string section, IValidateOptions<T>? rules = null) where T : class
    {
        var result = Validate(options, section, rules);
        if (result.Failed) throw new ValidationException(result.Failures!.First());
    }

    /// <summary>Every failure, each already in the friendly form; <see cref="ValidateOptionsResult.Success"/> when none.</summary>
    public static ValidateOptionsResult Validate<T>(T options, string section, IValidateOptions<T>? rules = null) where T : class
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        var results = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            foreach (var r in results)
            {
                var member = r.MemberNames.FirstOrDefault() ?? "?";
                failures.Add(Invalid(section, member, typeof(T).GetProperty(member)?.GetValue(options), r.ErrorMessage ?? "out of range"));
            }
        }
        // The rules run only on values the attributes accepted, so they may assume those ranges.
        if (failures.Count == 0 && rules?.Validate(section, options) is { Failed: true } more) failures.AddRange(more.Failures!);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>"Section:Key = value is invalid: reason (set it with the matching flag, DISTSAC_SECTION__KEY, or the config file)."</summary>
    public static string Invalid(string section, string key, object? value, string reason)
    {
        var shown = value switch
        {
            null => "null",
            string s => $"'{s}'",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString(),
        };
        return string.Create(CultureInfo.InvariantCulture,
            $"{section}:{key} = {shown} is invalid: {reason.TrimEnd('.')} (set it with the matching flag, DISTSAC_{section.ToUpperInvariant()}__{key.ToUpperInvariant()}, or the config file).");
    }

    /// <summary>Collects failures of one record's own checks; <see cref="Result"/> turns them into the options result.</summary>
    public sealed class Failures(string section)
    {
        private readonly List<string> _failures = [];

        public void Require(bool ok, string key, object? value, string reason)
        {
            if (!ok) _failures.Add(Invalid(section, key, value, reason));
        }

        /// <summary>Runs a check that throws <see cref="ArgumentException"/> (a parser) and records its message as the reason.</summary>
        public void Check(Action check, string key, object? value)
        {
            try
            {
                check();
            }
            catch (ArgumentException e)
            {
                _failures.Add(Invalid(section, key, value, e.Message));
            }
        }

        public ValidateOptionsResult Result => _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);
    }
}
