import { describe, expect, it } from 'vitest';
import {
  CONTEXT_KEYS,
  DEFAULT_SETTINGS,
  isTimeZone,
  resolveSettings,
  SettingsError,
  settingsFromContext,
} from '../../infra/lib/settings.ts';
import { ConfigError } from '../../shared/errors.ts';

const context =
  (values: Record<string, unknown>) =>
  (key: string): unknown =>
    values[key];

describe('Function: resolveSettings', () => {
  it('applies the documented defaults when nothing is set', () => {
    const s = resolveSettings();
    expect(s).toEqual({
      recipients: ['risk-team@example.com'],
      sender: 'risk-audit@example.com',
      senderIdentity: 'domain',
      scheduleCron: 'cron(0 6 * * ? *)',
      timezone: 'Asia/Shanghai',
      scheduleEnabled: true,
      retentionDays: 400,
      tapeRetentionDays: 2557,
      tapeCutoff: '05:30',
      alarmEmails: [],
      mapMaxConcurrency: 8,
      reportLinkConcurrency: 5,
      shardMemoryMb: 1769,
      mergeMemoryMb: 3008,
      bucketMemoryMb: 1769,
      finalizeMemoryMb: 1024,
      s3Trigger: false,
      watchlistLimit: 5000,
    });
  });

  it('keeps the given values and defaults the rest', () => {
    const s = resolveSettings({
      timezone: 'UTC',
      retentionDays: 30,
      alarmEmail: 'ops@bank.example',
      mergeMemoryMb: 10_240,
    });
    expect(s.timezone).toBe('UTC');
    expect(s.mergeMemoryMb).toBe(10_240);
    expect(s.retentionDays).toBe(30);
    expect(s.sender).toBe(DEFAULT_SETTINGS.sender);
    expect(s.alarmEmails).toEqual(['ops@bank.example']);
  });

  it.each([
    [{ sender: 'nobody' }, 'invalid sender: expected an email address, got "nobody"'],
    [{ recipients: [] }, 'invalid recipients: expected at least one email address, got []'],
    [
      { recipients: ['a@bank.example', 'b at bank'] },
      'invalid recipients: expected email addresses, got "b at bank"',
    ],
    [
      { scheduleCron: '0 6 * * *' },
      'invalid scheduleCron: expected a six-field \'cron(m h dom mon dow year)\', got "0 6 * * *"',
    ],
    [
      { timezone: 'Asia/Atlantis' },
      'invalid timezone: expected an IANA time zone such as \'Asia/Shanghai\', got "Asia/Atlantis"',
    ],
    [{ tapeCutoff: '25:00' }, 'invalid tapeCutoff: expected a local time \'HH:MM\', got "25:00"'],
    [{ tapeCutoff: '5:30' }, 'invalid tapeCutoff: expected a local time \'HH:MM\', got "5:30"'],
    [{ retentionDays: 0 }, 'invalid retentionDays: expected an integer from 1 to 3650, got 0'],
    [{ retentionDays: 1.5 }, 'invalid retentionDays: expected an integer from 1 to 3650, got 1.5'],
    [
      { mapMaxConcurrency: 10_001 },
      'invalid mapMaxConcurrency: expected an integer from 1 to 10000, got 10001',
    ],
    [{ shardMemoryMb: 64 }, 'invalid shardMemoryMb: expected an integer from 128 to 10240, got 64'],
    [{ mergeMemoryMb: 64 }, 'invalid mergeMemoryMb: expected an integer from 128 to 10240, got 64'],
    [{ mergeMemoryMb: 10_241 }, 'invalid mergeMemoryMb: expected an integer from 128 to 10240, got 10241'],
    [{ mergeMemoryMb: 4096.5 }, 'invalid mergeMemoryMb: expected an integer from 128 to 10240, got 4096.5'],
    [{ bucketMemoryMb: 100 }, 'invalid bucketMemoryMb: expected an integer from 128 to 10240, got 100'],
    [
      { finalizeMemoryMb: 20_000 },
      'invalid finalizeMemoryMb: expected an integer from 128 to 10240, got 20000',
    ],
    [{ alarmEmail: 'ops' }, 'invalid alarmEmail: expected an email address, got "ops"'],
    [
      { alarmEmails: ['ops@bank.example', 'cro at bank'] },
      'invalid alarmEmails: expected email addresses, got "cro at bank"',
    ],
    [
      { reportLinkConcurrency: 0 },
      "invalid reportLinkConcurrency: expected an integer from 1 to 1000, or 'none', got 0",
    ],
    [
      { reportLinkConcurrency: 'all' as never },
      'invalid reportLinkConcurrency: expected an integer from 1 to 1000, or \'none\', got "all"',
    ],
    [
      { senderIdentity: 'dns' as never },
      "invalid senderIdentity: expected one of 'email', 'domain', 'none', got \"dns\"",
    ],
    [{ shardBytes: 1000 }, 'invalid shardBytes: expected an integer from 1048576 to 10737418240, got 1000'],
    [{ s3TriggerSuffix: '' }, 'invalid s3TriggerSuffix: expected a non-empty key suffix, got ""'],
    [
      { mappingFile: '/etc/mapping.yaml' },
      'invalid mappingFile: expected a path inside the project, such as \'config/file.yaml\', got "/etc/mapping.yaml"',
    ],
    [
      { mappingFile: '../mapping.yaml' },
      'invalid mappingFile: expected a path inside the project, such as \'config/file.yaml\', got "../mapping.yaml"',
    ],
    [
      { mappingFile: 'config/nowhere.yaml' },
      'invalid mappingFile: expected an existing file (relative to the project root), got "config/nowhere.yaml"',
    ],
    [
      { mappingFile: 'test/infra/fixtures/broken-mapping.yaml' },
      'invalid mappingFile: column mapping test/infra/fixtures/broken-mapping.yaml is invalid: columns: Unrecognized keys: "loan_number", "not_a_column"',
    ],
    [
      { policyFile: 'examples/prosper-mapping.yaml' },
      'invalid policyFile: invalid policy file examples/prosper-mapping.yaml: field kind: must be rule-pack, lender-profile or risk-appetite, got null',
    ],
  ])('rejects %j with a readable message', (settings, message) => {
    expect(() => resolveSettings(settings)).toThrow(message);
  });

  it('throws a SettingsError, which is a ConfigError, lowercase and without a trailing period', () => {
    let caught: unknown;
    try {
      resolveSettings({ timezone: 'nowhere' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SettingsError);
    expect(caught).toBeInstanceOf(ConfigError);
    const message = (caught as Error).message;
    expect(message[0]).toBe(message[0]?.toLowerCase());
    expect(message.endsWith('.')).toBe(false);
  });
});

describe('Function: isTimeZone', () => {
  it('knows IANA zones and refuses made-up ones', () => {
    expect(isTimeZone('Asia/Shanghai')).toBe(true);
    expect(isTimeZone('America/New_York')).toBe(true);
    expect(isTimeZone('Asia/Gotham')).toBe(false);
    expect(isTimeZone('')).toBe(false);
  });
});

describe('Function: settingsFromContext', () => {
  it('reads CLI strings: comma lists, numbers and booleans', () => {
    const s = settingsFromContext(
      context({
        recipients: 'a@bank.example, b@bank.example,',
        retentionDays: '90',
        scheduleEnabled: 'false',
        s3Trigger: 'true',
        timezone: ' Europe/London ',
        mergeMemoryMb: '10240',
      }),
    );
    expect(s).toEqual({
      recipients: ['a@bank.example', 'b@bank.example'],
      retentionDays: 90,
      mergeMemoryMb: 10_240,
      scheduleEnabled: false,
      s3Trigger: true,
      timezone: 'Europe/London',
    });
  });

  it('reads typed values from cdk.json', () => {
    const s = settingsFromContext(
      context({ recipients: ['x@bank.example'], mapMaxConcurrency: 40, s3Trigger: false }),
    );
    expect(s).toEqual({ recipients: ['x@bank.example'], mapMaxConcurrency: 40, s3Trigger: false });
  });

  it('reads the alarm addresses as a comma-separated list, the older single address beside them', () => {
    const read = settingsFromContext(
      context({ alarmEmails: 'ops@bank.example, cro@bank.example', alarmEmail: 'ops@bank.example' }),
    );
    expect(read).toEqual({
      alarmEmails: ['ops@bank.example', 'cro@bank.example'],
      alarmEmail: 'ops@bank.example',
    });
    expect(resolveSettings(read).alarmEmails).toEqual(['ops@bank.example', 'cro@bank.example']);
    expect(
      resolveSettings(settingsFromContext(context({ alarmEmail: 'night@bank.example' }))).alarmEmails,
    ).toEqual(['night@bank.example']);
  });

  it("reads the report-link reservation as a number or 'none'", () => {
    expect(settingsFromContext(context({ reportLinkConcurrency: '3' }))).toEqual({
      reportLinkConcurrency: 3,
    });
    expect(settingsFromContext(context({ reportLinkConcurrency: 'none' }))).toEqual({
      reportLinkConcurrency: 'none',
    });
    expect(() => settingsFromContext(context({ reportLinkConcurrency: 'few' }))).toThrow(
      'invalid reportLinkConcurrency: expected a number, got "few"',
    );
  });

  it('leaves unset and empty keys to the defaults', () => {
    expect(settingsFromContext(context({ sender: '', alarmEmail: null }))).toEqual({});
  });

  it('refuses values of the wrong kind, naming the key', () => {
    expect(() => settingsFromContext(context({ retentionDays: 'forever' }))).toThrow(
      'invalid retentionDays: expected a number, got "forever"',
    );
    expect(() => settingsFromContext(context({ mergeMemoryMb: '10GB' }))).toThrow(
      'invalid mergeMemoryMb: expected a number, got "10GB"',
    );
    expect(() => settingsFromContext(context({ s3Trigger: 'yes' }))).toThrow(
      "invalid s3Trigger: expected 'true' or 'false', got \"yes\"",
    );
    expect(() => settingsFromContext(context({ sender: { at: 'x' } }))).toThrow(
      'invalid sender: expected a string',
    );
  });

  it('has one context key per setting', () => {
    const keys = Object.keys(
      settingsFromContext(
        context({
          recipients: 'a@b.example',
          sender: 'a@b.example',
          senderIdentity: 'none',
          scheduleCron: 'cron(0 6 * * ? *)',
          timezone: 'UTC',
          scheduleEnabled: 'true',
          retentionDays: '1',
          tapeRetentionDays: '2',
          tapeCutoff: '05:00',
          alarmEmails: 'a@b.example,c@b.example',
          alarmEmail: 'a@b.example',
          mapMaxConcurrency: '1',
          reportLinkConcurrency: 'none',
          shardMemoryMb: '128',
          mergeMemoryMb: '128',
          bucketMemoryMb: '128',
          finalizeMemoryMb: '128',
          s3Trigger: 'true',
          s3TriggerSuffix: '_SUCCESS',
          shardBytes: '1048576',
          watchlistLimit: '1',
          mappingFile: 'examples/prosper-mapping.yaml',
          policyFile: 'policies/risk-appetite.yaml',
        }),
      ),
    );
    expect(keys.sort()).toEqual([...CONTEXT_KEYS].sort());
  });
});
