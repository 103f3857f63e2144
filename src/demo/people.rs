//! Who the demo's workers are: names, destinations, sectors, agencies and wages
//! by country of origin. Plain data; the figures are illustrative, chosen to
//! look like the migration corridors of each country, not taken from statistics.

/// Weighted choices: (value, weight).
pub type Weighted<T> = &'static [(T, u32)];

/// A country of origin and the people who leave it to work abroad.
pub struct Origin {
    pub fund: &'static str,
    /// Percent of workers who are women (the rest men, but for a few `other`
    /// and `unspecified`).
    pub female_percent: u32,
    pub female_names: &'static [&'static str],
    pub male_names: &'static [&'static str],
    pub family_names: &'static [&'static str],
    /// Passport numbers: this prefix and seven digits.
    pub passport_prefix: &'static str,
    /// The country calling code and the mobile prefix, digits to follow.
    pub phone_prefix: &'static str,
    pub destinations: Weighted<&'static str>,
    pub female_sectors: Weighted<&'static str>,
    pub male_sectors: Weighted<&'static str>,
    pub agencies: &'static [&'static str],
}

/// A destination country: its wage currency, a typical monthly wage (whole
/// units) for a domestic worker, and cities for employers' names.
pub struct Destination {
    pub country: &'static str,
    pub currency: &'static str,
    pub base_wage_units: i64,
    pub cities: &'static [&'static str],
}

/// A sector: its wage relative to domestic work (percent), occupations and the
/// kind of employer.
pub struct Sector {
    pub code: &'static str,
    pub wage_percent: i64,
    pub occupations: &'static [&'static str],
    pub employers: &'static [&'static str],
}

#[rustfmt::skip]
pub const SECTORS: &[Sector] = &[
    Sector {
        code: "domestic_work",
        wage_percent: 100,
        occupations: &["Domestic helper", "Caregiver", "Nanny", "Housekeeper", "Cook"],
        employers: &["Private household"],
    },
    Sector {
        code: "construction",
        wage_percent: 115,
        occupations: &["Mason", "Steel fixer", "Electrician", "Plumber", "Carpenter", "Labourer"],
        employers: &["Construction Co.", "Contracting LLC", "Building Works"],
    },
    Sector {
        code: "manufacturing",
        wage_percent: 110,
        occupations: &["Machine operator", "Assembler", "Welder", "Packer", "Quality checker"],
        employers: &["Manufacturing Sdn", "Industries Ltd", "Factory Co."],
    },
    Sector {
        code: "hospitality",
        wage_percent: 120,
        occupations: &["Waiter", "Room attendant", "Kitchen helper", "Barista", "Receptionist"],
        employers: &["Hotel & Resorts", "Restaurants Group", "Catering Services"],
    },
    Sector {
        code: "healthcare",
        wage_percent: 220,
        occupations: &["Staff nurse", "Nursing aide", "Care worker", "Laboratory assistant"],
        employers: &["General Hospital", "Medical Centre", "Care Home"],
    },
    Sector {
        code: "agriculture",
        wage_percent: 90,
        occupations: &["Farm worker", "Plantation worker", "Fisher", "Livestock hand"],
        employers: &["Plantations", "Farms", "Agro Estates"],
    },
    Sector {
        code: "transport",
        wage_percent: 130,
        occupations: &["Heavy vehicle driver", "Delivery rider", "Bus driver", "Mechanic"],
        employers: &["Transport Services", "Logistics LLC", "Delivery Co."],
    },
];

pub fn sector(code: &str) -> &'static Sector {
    SECTORS
        .iter()
        .find(|s| s.code == code)
        .expect("origins name known sectors")
}

#[rustfmt::skip]
pub const DESTINATIONS: &[Destination] = &[
    Destination { country: "SA", currency: "SAR", base_wage_units: 1_500, cities: &["Riyadh", "Jeddah", "Dammam", "Mecca"] },
    Destination { country: "AE", currency: "AED", base_wage_units: 1_500, cities: &["Dubai", "Abu Dhabi", "Sharjah", "Al Ain"] },
    Destination { country: "HK", currency: "HKD", base_wage_units: 4_990, cities: &["Kowloon", "Sha Tin", "Tsuen Wan", "Central"] },
    Destination { country: "SG", currency: "SGD", base_wage_units: 650, cities: &["Jurong", "Tampines", "Woodlands"] },
    Destination { country: "KW", currency: "KWD", base_wage_units: 120, cities: &["Kuwait City", "Hawalli", "Salmiya"] },
    Destination { country: "QA", currency: "QAR", base_wage_units: 1_300, cities: &["Doha", "Al Wakrah", "Lusail"] },
    Destination { country: "JP", currency: "JPY", base_wage_units: 180_000, cities: &["Tokyo", "Osaka", "Nagoya"] },
    Destination { country: "IT", currency: "EUR", base_wage_units: 1_000, cities: &["Milan", "Rome", "Naples"] },
    Destination { country: "TW", currency: "TWD", base_wage_units: 20_000, cities: &["Taipei", "Taichung", "Kaohsiung"] },
    Destination { country: "MY", currency: "MYR", base_wage_units: 1_500, cities: &["Kuala Lumpur", "Penang", "Johor Bahru", "Shah Alam"] },
    Destination { country: "KR", currency: "KRW", base_wage_units: 2_100_000, cities: &["Ansan", "Gimhae", "Hwaseong"] },
    Destination { country: "OM", currency: "OMR", base_wage_units: 150, cities: &["Muscat", "Salalah", "Sohar"] },
    Destination { country: "JO", currency: "JOD", base_wage_units: 250, cities: &["Amman", "Irbid", "Zarqa"] },
    Destination { country: "BH", currency: "BHD", base_wage_units: 150, cities: &["Manama", "Muharraq", "Riffa"] },
];

pub fn destination(country: &str) -> &'static Destination {
    DESTINATIONS
        .iter()
        .find(|d| d.country == country)
        .expect("origins name known destinations")
}

#[rustfmt::skip]
pub const ORIGINS: &[Origin] = &[
    Origin {
        fund: "PH-OWWA",
        female_percent: 60,
        female_names: &["Maria", "Ana", "Rosalie", "Jocelyn", "Maricel", "Liza", "Cristina", "Grace", "Joy", "Mary Ann", "Rowena", "Analyn", "Lorna", "Janet", "Erlinda", "Divina", "Marites", "Rhea", "Sheryl", "Kristine"],
        male_names: &["Jose", "Juan", "Mark", "John Paul", "Ramon", "Eduardo", "Rodel", "Jonathan", "Arnel", "Reynaldo", "Romeo", "Danilo", "Christian", "Jerome", "Noel", "Ronald", "Joel", "Ariel", "Rogelio", "Dennis"],
        family_names: &["Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia", "Mendoza", "Torres", "Flores", "Villanueva", "Ramos", "Aquino", "Castillo", "Dela Cruz", "Gonzales", "Navarro", "Salazar", "Manalo", "Pascual", "Soriano"],
        passport_prefix: "P",
        phone_prefix: "+63 9",
        destinations: &[("SA", 22), ("AE", 18), ("HK", 14), ("KW", 9), ("QA", 9), ("SG", 8), ("JP", 6), ("IT", 5), ("TW", 5)],
        female_sectors: &[("domestic_work", 60), ("healthcare", 15), ("hospitality", 12), ("manufacturing", 10), ("agriculture", 3)],
        male_sectors: &[("construction", 35), ("transport", 20), ("hospitality", 15), ("manufacturing", 15), ("healthcare", 5), ("agriculture", 5), ("domestic_work", 5)],
        agencies: &["Bright Horizons Manpower Services", "Pinoy Global Placement", "Luzon Overseas Recruitment", "Visayas Skilled Workers Agency", "Mabuhay International Staffing"],
    },
    Origin {
        fund: "NP-FEWF",
        female_percent: 10,
        female_names: &["Sita", "Gita", "Kamala", "Sarita", "Anita", "Sunita", "Laxmi", "Parbati", "Radha", "Sabina", "Puja", "Manisha", "Bimala", "Srijana", "Asmita"],
        male_names: &["Ram", "Hari", "Krishna", "Bikash", "Suresh", "Ramesh", "Dipak", "Santosh", "Prakash", "Rajesh", "Binod", "Sanjay", "Kiran", "Nabin", "Dil Bahadur", "Man Bahadur", "Bishnu", "Gopal", "Arjun", "Sagar"],
        family_names: &["Shrestha", "Tamang", "Gurung", "Magar", "Rai", "Limbu", "Thapa", "Karki", "Adhikari", "Bhandari", "Khadka", "Sherpa", "Yadav", "Chaudhary", "Poudel", "Basnet", "Lama", "Bista", "Shah", "Ghimire"],
        passport_prefix: "PA",
        phone_prefix: "+977 98",
        destinations: &[("QA", 28), ("SA", 20), ("AE", 20), ("MY", 22), ("KW", 10)],
        female_sectors: &[("domestic_work", 45), ("hospitality", 25), ("manufacturing", 20), ("healthcare", 10)],
        male_sectors: &[("construction", 40), ("manufacturing", 20), ("hospitality", 12), ("transport", 13), ("agriculture", 10), ("domestic_work", 5)],
        agencies: &["Himalayan Overseas Pvt. Ltd.", "Kathmandu Global Placement", "Everest Manpower Services", "Lumbini Foreign Employment", "Sagarmatha HR Solutions"],
    },
    Origin {
        fund: "LK-SLBFE",
        female_percent: 45,
        female_names: &["Kumari", "Nirmala", "Dilani", "Chamari", "Sandya", "Malani", "Priyanka", "Nadeesha", "Shiromi", "Anoma", "Fathima", "Kalaivani", "Lakshmi", "Tharushi", "Iresha"],
        male_names: &["Nimal", "Sunil", "Kamal", "Chaminda", "Pradeep", "Ruwan", "Mahesh", "Saman", "Asanka", "Nuwan", "Mohamed", "Suresh", "Dinesh", "Lasantha", "Tharindu"],
        family_names: &["Perera", "Fernando", "de Silva", "Jayasinghe", "Bandara", "Herath", "Dissanayake", "Gunawardena", "Kumara", "Ranasinghe", "Wijesinghe", "Mendis", "Karunaratne", "Rathnayake", "Ekanayake", "Nanayakkara", "Sivakumar", "Rajendran", "Pathirana", "Mohideen"],
        passport_prefix: "N",
        phone_prefix: "+94 7",
        destinations: &[("KW", 25), ("SA", 20), ("AE", 20), ("QA", 22), ("JO", 8), ("OM", 5)],
        female_sectors: &[("domestic_work", 65), ("manufacturing", 15), ("healthcare", 10), ("hospitality", 10)],
        male_sectors: &[("construction", 30), ("transport", 25), ("hospitality", 15), ("manufacturing", 20), ("agriculture", 10)],
        agencies: &["Lanka Global Recruiters", "Serendib Manpower Agency", "Ceylon Overseas Employment", "Kandy Skills Placement", "Island Link Recruitment"],
    },
    Origin {
        fund: "BD-WEWB",
        female_percent: 15,
        female_names: &["Fatema", "Nasrin", "Rokeya", "Shirin", "Rahima", "Salma", "Jesmin", "Parvin", "Amena", "Sumaiya", "Taslima", "Shahnaz", "Moriom", "Nazma", "Rupa"],
        male_names: &["Mohammad", "Abdul", "Rahim", "Karim", "Jamal", "Shahidul", "Mizanur", "Rafiqul", "Alamgir", "Habibur", "Kamrul", "Shafiqul", "Nurul", "Anwar", "Sohel", "Masud", "Rubel", "Jahangir", "Monir", "Faruk"],
        family_names: &["Hossain", "Rahman", "Islam", "Ahmed", "Uddin", "Akter", "Begum", "Khan", "Miah", "Sarker", "Chowdhury", "Alam", "Haque", "Mollah", "Sheikh", "Talukder", "Bhuiyan", "Karim", "Ali", "Mondal"],
        passport_prefix: "A",
        phone_prefix: "+880 1",
        destinations: &[("SA", 35), ("AE", 10), ("OM", 15), ("MY", 15), ("QA", 10), ("SG", 10), ("KW", 5)],
        female_sectors: &[("domestic_work", 60), ("manufacturing", 30), ("hospitality", 10)],
        male_sectors: &[("construction", 40), ("manufacturing", 15), ("agriculture", 15), ("transport", 12), ("hospitality", 13), ("domestic_work", 5)],
        agencies: &["Dhaka Overseas Recruiting Agency", "Bengal Manpower Export", "Chattogram Global Services", "Sylhet International Recruitment", "Padma HR Consultants"],
    },
    Origin {
        fund: "ID-BPJS-PMI",
        female_percent: 65,
        female_names: &["Siti", "Sri", "Dewi", "Wahyuni", "Rina", "Nur", "Eka", "Yuliani", "Sumiati", "Ratna", "Lestari", "Ani", "Tuti", "Endang", "Sulastri", "Kartini"],
        male_names: &["Budi", "Agus", "Slamet", "Joko", "Eko", "Bambang", "Hendra", "Rudi", "Ahmad", "Dedi", "Yusuf", "Iwan", "Wawan", "Andi", "Heri"],
        family_names: &["Susanto", "Wijaya", "Saputra", "Hidayat", "Rahayu", "Setiawan", "Kusuma", "Pratama", "Nugroho", "Santoso", "Purnomo", "Wibowo", "Hartono", "Suryani", "Handayani", "Maulana"],
        passport_prefix: "C",
        phone_prefix: "+62 8",
        destinations: &[("MY", 35), ("TW", 25), ("HK", 20), ("SA", 8), ("SG", 7), ("KR", 5)],
        female_sectors: &[("domestic_work", 70), ("manufacturing", 15), ("healthcare", 10), ("hospitality", 5)],
        male_sectors: &[("agriculture", 30), ("manufacturing", 30), ("construction", 25), ("transport", 10), ("hospitality", 5)],
        agencies: &["PT Nusantara Tenaga Kerja", "PT Jawa Global Mandiri", "PT Sumber Karya Indonesia", "PT Bintang Timur Sejahtera", "PT Citra Pekerja Migran"],
    },
    Origin {
        fund: "KE-MWF",
        female_percent: 55,
        female_names: &["Wanjiru", "Akinyi", "Njeri", "Atieno", "Wambui", "Chebet", "Mwikali", "Nyambura", "Achieng", "Faith", "Mercy", "Grace", "Esther", "Caroline", "Nafula", "Zawadi", "Halima", "Amina"],
        male_names: &["Kamau", "Otieno", "Mwangi", "Odhiambo", "Kiprono", "Mutua", "Omondi", "Juma", "Hassan", "Peter", "Brian", "Kevin", "Dennis", "Joseph", "Samuel", "Daniel", "Wekesa", "Barasa"],
        family_names: &["Kamau", "Otieno", "Mwangi", "Ochieng", "Wanjiku", "Kariuki", "Njoroge", "Mutua", "Kiplagat", "Chepkoech", "Omondi", "Wafula", "Mohamed", "Mwende", "Koech", "Kiprotich", "Onyango", "Macharia", "Maina", "Nyaga"],
        passport_prefix: "AK",
        phone_prefix: "+254 7",
        destinations: &[("SA", 40), ("AE", 20), ("QA", 15), ("OM", 10), ("KW", 8), ("BH", 7)],
        female_sectors: &[("domestic_work", 65), ("hospitality", 15), ("healthcare", 12), ("manufacturing", 8)],
        male_sectors: &[("transport", 30), ("construction", 25), ("hospitality", 20), ("manufacturing", 10), ("agriculture", 10), ("domestic_work", 5)],
        agencies: &["Nairobi Global Recruitment Ltd", "Mombasa Overseas Placement", "Rift Valley Manpower Agency", "Savannah HR Consultants", "Lake Basin Employment Bureau"],
    },
];

pub fn origin(fund: &str) -> Option<&'static Origin> {
    ORIGINS.iter().find(|o| o.fund == fund)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::funds::is_country;
    use crate::money::Currency;

    #[test]
    fn every_origin_names_known_destinations_sectors_and_currencies() {
        for origin in ORIGINS {
            for (country, _) in origin.destinations {
                let d = destination(country);
                assert!(is_country(d.country));
                assert!(Currency::parse(d.currency).is_ok(), "{}", d.currency);
            }
            for (code, _) in origin.female_sectors.iter().chain(origin.male_sectors) {
                assert_eq!(sector(code).code, *code);
            }
            assert!(!origin.female_names.is_empty() && !origin.male_names.is_empty());
        }
        assert!(crate::demo::FUND_FILES
            .iter()
            .all(|(code, _)| origin(code).is_some()));
    }
}
